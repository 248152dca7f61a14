""" "Now" for open listings: Beijing wall-clock time, the zone every deadline in the PDFs is in,
stored without a zone like the deadlines themselves."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")
_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S")


def beijing_now() -> datetime:
    return datetime.now(BEIJING).replace(tzinfo=None, microsecond=0)


def parse_as_of(text: str | date | datetime | None) -> datetime:
    """'YYYY-MM-DD' (the start of that day), 'YYYY-MM-DD HH:MM[:SS]', a date or datetime; None
    is now. Anything else is a clear error, never a silent default."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return beijing_now()
    if isinstance(text, datetime):
        return text.replace(tzinfo=None)
    if isinstance(text, date):
        return datetime(text.year, text.month, text.day)
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
    raise ValueError(f"as_of must look like YYYY-MM-DD or 'YYYY-MM-DD HH:MM', got {text!r}")


def as_of_var(moment: datetime) -> str:
    """The dbt var form (open_listings.sql casts it to a timestamp)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S")
