"""Typed records for the two document types, and their JSON form (the shared data contract:
money as strings with two decimals, ISO dates, "YYYY-MM-DDTHH:MM" datetimes, {name: count})."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from npl_assets.parsing.normalize import format_decimal

CountMap = dict[str, int]
# Optional values that were there but did not read as their type: {field: raw text}.
UnreadMap = dict[str, str]


def _json_value(value: Any) -> Any:
    # datetime first: it is also a date
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, dict):
        return dict(value)
    return value


class _JsonRecord:
    def to_json_dict(self) -> dict[str, Any]:
        """The record as JSON-ready values, keys in field order."""
        return {f.name: _json_value(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True)
class ListingRecord(_JsonRecord):
    """A 转让公告 (relistings included). Optional values are None when the PDF leaves them out,
    blank or unreadable (then `unread_fields` has the raw text); required ones (see
    listing.REQUIRED) are always set."""

    title: str
    project_name: str
    is_relisting: bool
    seller: str
    batch_year: int | None
    batch_no: int | None
    asset_type: str
    asset_type_wording: str | None
    transaction_base_date: date | None
    loans: int | None
    borrowers: int | None
    unpaid_principal_yuan: Decimal | None
    unpaid_interest_yuan: Decimal | None
    unpaid_total_yuan: Decimal
    other_fees_yuan: Decimal | None
    weighted_avg_overdue_days: Decimal | None
    max_single_borrower_unpaid_yuan: Decimal | None
    avg_borrower_unpaid_yuan: Decimal | None
    weighted_avg_borrower_age: Decimal | None
    weighted_avg_credit_limit_yuan: Decimal | None
    five_class: CountMap | None
    write_off: CountMap | None
    guarantee: CountMap | None
    litigation: CountMap | None
    remarks: str | None
    registration_deadline: datetime | None
    bid_date: date | None
    transfer_method: str | None
    bidding_method: str | None
    auction_start: datetime | None
    auction_end: datetime | None
    extension_minutes: int | None
    starting_price_yuan: Decimal | None
    bid_increment_yuan: Decimal | None
    deposit_required: bool | None
    publication_date: date | None  # None: no date under 特此公告
    unread_fields: UnreadMap | None = None
    document_type: Literal["listing"] = field(default="listing", init=False)

    def to_json_dict(self) -> dict[str, Any]:
        out = super().to_json_dict()
        return {"document_type": out.pop("document_type"), **out}


@dataclass(frozen=True)
class ResultRecord(_JsonRecord):
    """A 转让结果公告. It never carries the price. Only the project name and the seller are
    required; a missing or unreadable code or agreement date is None (unreadable: the raw text is
    in `unread_fields`)."""

    title: str
    project_name: str
    project_code: str | None
    seller: str
    buyer: str | None
    agreement_signed_date: date | None
    publication_date: date | None  # None: no date under 特此公告
    unread_fields: UnreadMap | None = None
    document_type: Literal["result"] = field(default="result", init=False)

    def to_json_dict(self) -> dict[str, Any]:
        out = super().to_json_dict()
        return {"document_type": out.pop("document_type"), **out}
