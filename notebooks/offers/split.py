"""A time-based train/test split with no leakage.

Test holds the latest snapshots. Train holds the earlier ones whose label window (snapshot +
horizon) closes no later than the first test snapshot: a train label must never be decided by events
the test period contains (the "purge" of time-series cross-validation, de Prado, Advances in
Financial Machine Learning, ch. 7). A random split would put the same visitor's day-apart snapshots on
both sides and reward memorising the future.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import List, Mapping, Sequence


@dataclass(frozen=True)
class TimeSplit:
    train: List[Mapping]
    test: List[Mapping]
    #: First snapshot of the test period.
    test_from: datetime
    #: Snapshots in [purged_from, test_from) were dropped: their labels look into the test period.
    purged_from: datetime
    purged: int


def time_split(rows: Sequence[Mapping], test_fraction: float = 0.25, horizon_hours: int = 24) -> TimeSplit:
    """Splits on `snapshot_at`: the last `test_fraction` of distinct snapshot instants is the test set."""
    if not 0 < test_fraction < 1:
        raise ValueError("test_fraction must be in (0, 1)")
    instants = sorted({r["snapshot_at"] for r in rows})
    if len(instants) < 2:
        raise ValueError("a time split needs at least two snapshot instants")
    n_test = max(1, round(len(instants) * test_fraction))
    test_from = instants[len(instants) - n_test]
    purged_from = test_from - timedelta(hours=horizon_hours)
    train = [r for r in rows if r["snapshot_at"] <= purged_from]
    test = [r for r in rows if r["snapshot_at"] >= test_from]
    purged = len(rows) - len(train) - len(test)
    if not train:
        raise ValueError("no training snapshot before the test period minus the horizon: widen the window")
    return TimeSplit(train=train, test=test, test_from=test_from, purged_from=purged_from, purged=purged)
