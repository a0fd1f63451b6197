"""The label of the offers model.

A *snapshot* is a visitor's features as of an instant `snapshot_at` (the same definitions as the
features view `clickstream_views.user_features`, computed over the events up to that instant). Its
label is 1 when the visitor completes an order (Segment e-commerce spec event "Order Completed",
segment.com/docs/connections/spec/ecommerce/v2) in the `horizon_hours` that follow the snapshot —
strictly after it, at most `horizon_hours` later — else 0. That is the question marketing asks when
it picks an offer for a visitor now: "will this visitor buy within the next day?".

A snapshot whose horizon runs past the end of the observed data is *censored*: a 0 there may be an
order that has not happened yet. Censored snapshots are dropped, never labelled 0.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable, List, Mapping, Optional

#: The purchase event (Segment e-commerce spec v2), as components/gcp/clickstream/view-sql.ts names it.
PURCHASE_EVENT = "Order Completed"

#: Offers are shown within a visit and the next day's return visit: 24 hours.
DEFAULT_HORIZON_HOURS = 24


def label_of(snapshot_at: datetime, next_order_at: Optional[datetime], horizon_hours: int) -> int:
    """1 if the first order after the snapshot falls in (snapshot_at, snapshot_at + horizon]."""
    if horizon_hours <= 0:
        raise ValueError("horizon_hours must be positive")
    if next_order_at is None:
        return 0
    return int(snapshot_at < next_order_at <= snapshot_at + timedelta(hours=horizon_hours))


def labelled(
    rows: Iterable[Mapping],
    horizon_hours: int = DEFAULT_HORIZON_HOURS,
    observed_until: Optional[datetime] = None,
) -> List[dict]:
    """Rows of the training query (`snapshot_at`, `next_order_at`, features) with a `label`.

    `observed_until` is the end of the events the query read; snapshots whose horizon ends after it
    are censored and left out. None: every row is kept (the caller guarantees complete horizons).
    """
    out = []
    horizon = timedelta(hours=horizon_hours)
    for row in rows:
        snapshot_at = row["snapshot_at"]
        if observed_until is not None and snapshot_at + horizon > observed_until:
            continue
        out.append({**row, "label": label_of(snapshot_at, row.get("next_order_at"), horizon_hours)})
    return out
