"""The model's inputs: the numeric features of `clickstream_views.user_features`, in a fixed order.

Training reads them point-in-time (02-train-propensity.ipynb, same definitions as the view with the
snapshot instant in place of "now"); serving reads them from the Feature Online Store, which syncs that
view (04-online-prediction.ipynb). `last_categories` (a list of strings) is not a model input.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import List, Mapping, Optional

FEATURE_COLUMNS = (
    "recency_seconds",
    "frequency_events",
    "active_days",
    "product_views",
    "add_to_carts",
    "orders",
    "monetary",
)


def last_event_at(features: Mapping) -> Optional[datetime]:
    """The visitor's latest event, as the online store or BigQuery gives it, or None.

    Online, `last_event_unix_seconds` (an int): the feature view's sync turns a TIMESTAMP feature into an
    int64 whose unit the Feature Store docs do not state ("Prepare data source", data types), so an int
    `feature_timestamp` is not read. From BigQuery, `feature_timestamp` (a datetime, or ISO text).
    """
    seconds = features.get("last_event_unix_seconds")
    if isinstance(seconds, int) and not isinstance(seconds, bool):
        return datetime.fromtimestamp(seconds, timezone.utc)
    ts = features.get("feature_timestamp")
    if isinstance(ts, str):
        ts = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return ts if isinstance(ts, datetime) else None


def instance_from(features: Mapping, now: Optional[datetime] = None) -> List[float]:
    """One prediction instance, in FEATURE_COLUMNS order.

    The online store holds `recency_seconds` as of its last sync; when the visitor's last event is
    served too (`last_event_at`), recency is recomputed for `now`, so a stale sync does not make every
    visitor look less recent than they are. Missing counts are 0 (a visitor unseen in the look-back
    window); a missing recency is an error.
    """
    values = dict(features)
    ts = last_event_at(values)
    if ts is not None:
        now = now or datetime.now(timezone.utc)
        values["recency_seconds"] = max(0, int((now - ts).total_seconds()))
    if values.get("recency_seconds") is None:
        raise KeyError("recency_seconds (or last_event_unix_seconds) is required")
    return [float(values.get(c) or 0) for c in FEATURE_COLUMNS]
