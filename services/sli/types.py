"""The types the SLI read passes around: what one SLO's read asks for, and the sums it gets.

Times here are whole seconds since the Unix epoch (UTC), which is what the read plan cuts and
the executors compare: cheaper than datetimes by an order of magnitude, and exact, since every
moment involved falls on a 5-minute bucket boundary.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import NamedTuple

from services.budget.figures import BudgetTier
from services.budget.windows import Interval

#: A [low, high) range of epoch seconds.
Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class ReadRequest:
    """One SLO's part of a read (services.sli.read.slo_groups): its data from `history` on, how
    to group it (its window's start, the hour from which hours are kept apart, months in
    `time_zone`, slices of `slice_seconds` good from `slice_target`, both None for
    occurrences) and where to read it (`ranges`: by span in seconds, the ranges of stored day
    and hour rollups to read whole, and under the bucket span the ranges read bucket by
    bucket; maintenance is already left out)."""

    slo_id: int
    history: int
    window_start: int
    hours_from: int
    time_zone: str
    slice_seconds: int | None
    slice_target: float | None
    excluded: Sequence[Span]
    ranges: Mapping[int, Sequence[Span]]


class SLIGroup(NamedTuple):
    """The sums of one SLO's data sharing every key: whether it lies in the SLO window, its
    calendar month in the SLO's zone (year x 12 + month - 1), its UTC day (days since the
    epoch; set in the window only), its UTC hour (hours since the epoch; set from the
    request's `hours_from` on), how many of the look-back windows hold it (0 to 7, the
    longest window first: 1 is the 3d window only, 7 all of them) and, for data shorter than
    a timeslice, the slice (its index since the epoch). `present` counts buckets with data;
    `good_slices` and `bad_slices` count the whole timeslices judged inside the group.
    PostgreSQL's rows come in this order as plain tuples."""

    in_window: bool
    month: int
    day: int | None
    hour: int | None
    lookback: int
    slice: int | None
    good: int
    total: int
    present: int
    good_slices: int
    bad_slices: int
    slo_id: int


@dataclass(frozen=True, slots=True)
class SnapshotInputs:
    """What a snapshot needs besides the SLI groups, loaded once for many SLOs: the bucket
    ranges left out for maintenance, the tiers of the SLO's budget policy, and how old data
    may be before the SLO counts as stale."""

    excluded: list[Interval]
    tiers: tuple[BudgetTier, ...]
    stale_after: timedelta
