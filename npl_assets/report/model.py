"""The report's data, as plain typed values: what `data.py` reads from the marts and what
`render.py` turns into HTML and markdown. No I/O here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from npl_assets.domain import (
    STARTING_PRICE_DISCLOSED_UNTIL,
)

QUARTER_RE = re.compile(r"^(\d{4})Q([1-4])$")

# The data contract's seller types, in the order the report lists them.

# Where a listing discloses no asset type the report still counts it, under this label.
UNKNOWN_LABEL = "未识别"

# 起始价 is no longer disclosed in listings published from this date on.
STARTING_PRICE_DROPPED_ON = STARTING_PRICE_DISCLOSED_UNTIL

# Weighted overdue-days buckets: (label, lower bound inclusive, upper bound exclusive), in days,
# with a year taken as 365 days.
OVERDUE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("< 1 year", 0, 365),
    ("1–3 years", 365, 3 * 365),
    ("3–5 years", 3 * 365, 5 * 365),
    ("> 5 years", 5 * 365, None),
)
OVERDUE_UNKNOWN = "not disclosed"


class ReportDataError(ValueError):
    """The marts hold something the report cannot state honestly (bad quarter, unknown type)."""


def parse_quarter(quarter: str) -> tuple[int, int]:
    match = QUARTER_RE.match(quarter or "")
    if not match:
        raise ReportDataError(f"not a quarter like '2023Q4': {quarter!r}")
    return int(match.group(1)), int(match.group(2))


def shift_quarter(quarter: str, quarters: int) -> str:
    """`shift_quarter('2024Q1', -1) == '2023Q4'`."""
    year, q = parse_quarter(quarter)
    index = year * 4 + (q - 1) + quarters
    return f"{index // 4}Q{index % 4 + 1}"


def overdue_bucket(days: Decimal | float | int | None) -> str:
    if days is None:
        return OVERDUE_UNKNOWN
    for label, low, high in OVERDUE_BUCKETS:
        if days >= low and (high is None or days < high):
            return label
    raise ReportDataError(f"negative weighted overdue days: {days}")


def ratio(numerator: Decimal | None, denominator: Decimal | None) -> Decimal | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return Decimal(numerator) / Decimal(denominator)


@dataclass(frozen=True)
class Figure:
    """A headline figure with the same figure one quarter and one year earlier (None: missing)."""

    label: str
    kind: str  # "money" (元) or "count"
    value: Decimal | int
    previous_quarter: Decimal | int | None
    year_ago: Decimal | int | None


@dataclass(frozen=True)
class Group:
    """The summed mart measures of one seller type or asset type in one quarter.
    `starting_price_base_yuan` is the unpaid total of the listings that disclose a starting
    price: the denominator of the starting-price ratio."""

    name: str
    listings: int
    unpaid_total_yuan: Decimal
    borrowers: int
    sold_listings: int
    starting_price_yuan: Decimal | None
    starting_price_base_yuan: Decimal | None
    listings_without_starting_price: int | None

    @property
    def starting_price_ratio(self) -> Decimal | None:
        return ratio(self.starting_price_yuan, self.starting_price_base_yuan)


@dataclass(frozen=True)
class SellerRow:
    seller: str
    seller_type: str
    listings: int
    unpaid_total_yuan: Decimal
    borrowers: int
    weighted_avg_overdue_days: Decimal | None
    starting_price_ratio: Decimal | None
    sold_listings: int


@dataclass(frozen=True)
class BuyerRow:
    buyer: str
    projects: int
    unpaid_total_yuan: Decimal


@dataclass(frozen=True)
class LeagueRow:
    """A buyer_league row: all sales in the data, whatever the quarter. Sales whose listing is
    not in the data count as projects but add nothing to the money."""

    buyer: str
    projects_bought: int
    projects_without_listing: int
    unpaid_total_yuan: Decimal | None


@dataclass(frozen=True)
class Bucket:
    label: str
    projects: int
    unpaid_total_yuan: Decimal


@dataclass(frozen=True)
class DocumentCoverage:
    """Listing documents of one quarter: stored, in the figures, held back, failed."""

    stored: int
    parsed: int
    quarantined: int
    failed: int

    @property
    def missing(self) -> int:
        return self.stored - self.parsed


@dataclass(frozen=True)
class Coverage:
    """What the figures rest on; None where the source file does not hold that table."""

    first_listing_from: str | None
    first_listing_to: str | None
    projects: int
    projects_without_quarter: int  # no first-listing date: in no quarter's figures
    listing_announcements: int | None
    relisting_announcements: int | None
    result_announcements: int | None
    documents: dict[str, int] | None
    parse_failures: dict[str, int] | None
    quarantined_listings: int | None
    # The listing documents the index dates to this quarter, and where each ended up; None
    # where the source holds no raw tables (the serving file).
    quarter_listings: DocumentCoverage | None = None


@dataclass(frozen=True)
class OpenProject:
    project_name: str
    seller: str
    registration_deadline: datetime | None
    days_left: int | None
    unpaid_total_yuan: Decimal | None


@dataclass(frozen=True)
class OpenNow:
    """What buyers can still act on at the build time (open_listings), for the current quarter's
    report only: a past quarter's page is history."""

    as_of: datetime
    open_projects: int
    open_unpaid_total_yuan: Decimal
    undecided_projects: int  # registration closed, auction pending or awaiting its result
    soonest: list[OpenProject]


@dataclass(frozen=True)
class QuarterReport:
    quarter: str
    headline: list[Figure]
    by_seller_type: list[Group]
    by_asset_type: list[Group]
    top_sellers: list[SellerRow]
    top_buyers: list[BuyerRow]
    buyers_scope: str  # what the buyer table covers
    buyer_league: list[LeagueRow]
    overdue: list[Bucket]
    coverage: Coverage
    trend: list[tuple[str, Decimal]] = field(default_factory=list)  # (quarter, unpaid total)
    open_now: OpenNow | None = None  # only when built for the current quarter

    @property
    def total(self) -> Group:
        return sum_groups("all", self.by_seller_type)


def _sum_optional(values: list) -> Decimal | int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def sum_groups(name: str, groups: list[Group]) -> Group:
    return Group(
        name=name,
        listings=sum(g.listings for g in groups),
        unpaid_total_yuan=sum((g.unpaid_total_yuan for g in groups), Decimal(0)),
        borrowers=sum(g.borrowers for g in groups),
        sold_listings=sum(g.sold_listings for g in groups),
        starting_price_yuan=_sum_optional([g.starting_price_yuan for g in groups]),
        starting_price_base_yuan=_sum_optional([g.starting_price_base_yuan for g in groups]),
        listings_without_starting_price=_sum_optional(
            [g.listings_without_starting_price for g in groups]
        ),
    )
