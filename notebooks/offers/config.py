"""Where the notebooks find their cell: the Workbench instance's metadata, else the environment.

The program writes these keys into the instance metadata (components/gcp/clickstream/workbench.ts);
on a laptop or in CI the same names, upper-cased with underscores (LAKEHOUSE_EVENTS_TABLE, ...), come
from the environment. Metadata server: https://cloud.google.com/compute/docs/metadata/querying-metadata
(the `Metadata-Flavor: Google` header is required, attributes live under instance/attributes/).
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Callable, Mapping, Optional

METADATA_URL = "http://metadata.google.internal/computeMetadata/v1/instance/attributes/"

#: Every key the notebooks read; `required` ones stop the notebook with a clear message when absent.
CONFIG_KEYS = {
    "lakehouse-project": "GCP project of the cell",
    "lakehouse-region": "GCP region of the cell (BigQuery location, Vertex AI region)",
    "lakehouse-events-table": "project.dataset.table of the clickstream events (partition filter required)",
    "lakehouse-features-view": "project.dataset.view of the ML features per visitor",
    "lakehouse-feature-online-store": "Feature Online Store id",
    "lakehouse-feature-view": "Feature view id in that store",
    "lakehouse-endpoint-id": "numeric id of the cell's Vertex AI endpoint",
    "lakehouse-notebooks-bucket": "bucket the notebooks and model artifacts live in",
    "lakehouse-pip-index-url": "the cell's PyPI mirror (Artifact Registry remote repository)",
    "lakehouse-model-artifacts": "gs:// prefix the notebooks may write model artifacts under",
    "lakehouse-vertex-kms-key": "the cell's Cloud KMS key for Vertex AI resources (models are registered with it)",
}

#: Keys a notebook can run without (pip falls back to its own configuration; artifacts and keys to defaults).
OPTIONAL_KEYS = frozenset({"lakehouse-pip-index-url", "lakehouse-model-artifacts", "lakehouse-vertex-kms-key"})

Fetch = Callable[[str], Optional[str]]


def env_name(key: str) -> str:
    """`lakehouse-events-table` -> `LAKEHOUSE_EVENTS_TABLE`."""
    return key.upper().replace("-", "_")


def metadata_fetch(key: str, timeout: float = 0.5) -> Optional[str]:
    """One attribute from the metadata server; None off GCE (no such host) or when the key is not set."""
    request = urllib.request.Request(METADATA_URL + key, headers={"Metadata-Flavor": "Google"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (fixed http URL)
            return response.read().decode("utf-8").strip() or None
    except (urllib.error.URLError, OSError, ValueError):
        return None


@dataclass(frozen=True)
class LakehouseConfig:
    project: str
    region: str
    events_table: str
    features_view: str
    feature_online_store: str
    feature_view: str
    endpoint_id: str
    notebooks_bucket: str
    pip_index_url: Optional[str]
    model_artifacts: Optional[str] = None
    vertex_kms_key: Optional[str] = None

    @property
    def feature_view_name(self) -> str:
        """The feature view's resource name, as FetchFeatureValues wants it."""
        return (
            f"projects/{self.project}/locations/{self.region}/featureOnlineStores/"
            f"{self.feature_online_store}/featureViews/{self.feature_view}"
        )

    @property
    def artifacts_prefix(self) -> str:
        """`gs://bucket/models/`: where model artifacts go (the notebooks' account may write only there)."""
        return (self.model_artifacts or f"gs://{self.notebooks_bucket}/models/").rstrip("/") + "/"

    @property
    def endpoint_name(self) -> str:
        return f"projects/{self.project}/locations/{self.region}/endpoints/{self.endpoint_id}"

    @property
    def api_endpoint(self) -> str:
        """Vertex AI's regional endpoint: data-plane calls stay in the cell's region."""
        return f"{self.region}-aiplatform.googleapis.com"


def read_config(
    fetch: Fetch = metadata_fetch,
    environ: Mapping[str, str] = os.environ,
) -> LakehouseConfig:
    """Reads every key, metadata first, then the environment; raises listing all that are missing."""
    values = {}
    for key in CONFIG_KEYS:
        value = fetch(key)
        if value is None:
            value = environ.get(env_name(key)) or None
        values[key] = value
    missing = [k for k, v in values.items() if v is None and k not in OPTIONAL_KEYS]
    if missing:
        raise KeyError(
            "missing configuration (instance metadata or environment): "
            + ", ".join(f"{k} / {env_name(k)}" for k in missing)
        )
    endpoint_id = values["lakehouse-endpoint-id"]
    if not endpoint_id.isdigit():
        raise ValueError(f"lakehouse-endpoint-id must be the endpoint's numeric id, got {endpoint_id!r}")
    for key in ("lakehouse-events-table", "lakehouse-features-view"):
        if values[key].count(".") != 2:
            raise ValueError(f"{key} must be project.dataset.table, got {values[key]!r}")
    return LakehouseConfig(
        project=values["lakehouse-project"],
        region=values["lakehouse-region"],
        events_table=values["lakehouse-events-table"],
        features_view=values["lakehouse-features-view"],
        feature_online_store=values["lakehouse-feature-online-store"],
        feature_view=values["lakehouse-feature-view"],
        endpoint_id=endpoint_id,
        notebooks_bucket=values["lakehouse-notebooks-bucket"],
        pip_index_url=values["lakehouse-pip-index-url"],
        model_artifacts=values["lakehouse-model-artifacts"],
        vertex_kms_key=values["lakehouse-vertex-kms-key"],
    )


def split_gcs_uri(uri: str) -> "tuple[str, str]":
    """`gs://bucket/a/b/` -> (`bucket`, `a/b/`)."""
    if not uri.startswith("gs://"):
        raise ValueError(f"not a gs:// URI: {uri!r}")
    bucket, _, path = uri[len("gs://") :].partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {uri!r}")
    return bucket, path
