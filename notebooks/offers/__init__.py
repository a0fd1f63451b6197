"""The parts of the offers notebooks that need no cloud: configuration, label, split, evaluation, latency.

Standard library only, so the same code runs in a Workbench kernel, in `python3 -m unittest` without
any package installed (test/notebooks/test_offers.py), and anywhere else.
"""

from .config import CONFIG_KEYS, OPTIONAL_KEYS, LakehouseConfig, read_config, split_gcs_uri
from .evaluation import (
    average_precision,
    brier_score,
    calibration_table,
    evaluate,
    expected_calibration_error,
    recency_baseline,
    roc_auc,
)
from .features import FEATURE_COLUMNS, instance_from, last_event_at
from .labels import DEFAULT_HORIZON_HOURS, PURCHASE_EVENT, label_of, labelled
from .latency import (
    CALLS_BUDGET_MS,
    FEATURE_READ_BUDGET_MS,
    LATENCY_BUDGET_MS,
    PREDICT_BUDGET_MS,
    percentile,
    within_budget,
)
from .serving import ARTIFACT_FILE, SKLEARN_VERSION, serving_image
from .split import TimeSplit, time_split

__all__ = [
    "ARTIFACT_FILE",
    "SKLEARN_VERSION",
    "serving_image",
    "CONFIG_KEYS",
    "CALLS_BUDGET_MS",
    "DEFAULT_HORIZON_HOURS",
    "FEATURE_READ_BUDGET_MS",
    "PREDICT_BUDGET_MS",
    "FEATURE_COLUMNS",
    "LATENCY_BUDGET_MS",
    "LakehouseConfig",
    "OPTIONAL_KEYS",
    "PURCHASE_EVENT",
    "TimeSplit",
    "average_precision",
    "brier_score",
    "calibration_table",
    "evaluate",
    "expected_calibration_error",
    "instance_from",
    "last_event_at",
    "label_of",
    "labelled",
    "percentile",
    "read_config",
    "recency_baseline",
    "roc_auc",
    "split_gcs_uri",
    "time_split",
    "within_budget",
]
