"""Pure helpers of the NoSQL extraction jobs (Cassandra and Elasticsearch/OpenSearch into Iceberg).

No Spark, no AWS SDK: everything here runs in plain python3, so the incremental logic (watermarks, read
windows, reconciliation, the source queries and the MERGE statement) is tested locally
(test/sources/nosql/) and the Glue scripts (cassandra_job.py, elasticsearch_job.py) only move data.

The contract, per curated table:

- Every row carries `_source_version` (a long, microseconds since the epoch): for Cassandra the greatest
  `WRITETIME` of the row's regular columns, for Elasticsearch the document's cursor field. A row changes
  in the lake only when a strictly newer version arrives, so re-running a batch changes nothing.
- The state (one JSON object per table in S3) holds the watermark: the greatest version committed so
  far. A run reads versions above `watermark - overlap` (late writes with older client timestamps, index
  refresh) and advances the watermark only after its MERGE committed. A crash in between re-reads the
  same window next time; the version rule makes that a no-op.
- A reconcile run reads the whole source and also deletes the rows the source no longer has (`WHEN NOT
  MATCHED BY SOURCE THEN DELETE`): neither Cassandra nor Elasticsearch exposes deletes to an incremental
  read, so a row erased at the source leaves the lake at the next reconcile (at most `reconcileEveryHours`
  plus one schedule later, kept inside the erasure SLA by config validation).
"""

from __future__ import annotations

import json
import re
from typing import Dict, List, Optional, Sequence

STATE_VERSION = 1
VERSION_COLUMN = "_source_version"
EXTRACTED_AT_COLUMN = "_extracted_at"
BATCH_VIEW = "nosql_batch"
# The writetime alias prefix of each regular Cassandra column in the read.
WRITETIME_PREFIX = "__wt_"

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$#]{0,127}$")


def _identifier(name: str) -> str:
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise ValueError(f"not an identifier: {name!r}")
    return name


def quote(name: str, dialect: str) -> str:
    """Quotes a (possibly dotted) name: backticks for Spark, double quotes for DuckDB."""
    if dialect == "spark":
        return ".".join("`" + part.replace("`", "``") + "`" for part in name.split("."))
    if dialect == "duckdb":
        return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))
    raise ValueError(f"unknown dialect {dialect!r}")


# ---- state --------------------------------------------------------------------------------------


def initial_state() -> dict:
    """The state of a table never extracted: no watermark, never reconciled."""
    return {"version": STATE_VERSION, "watermark": None, "lastReconcileAt": None, "runs": 0}


def parse_state(text: Optional[str]) -> dict:
    """The stored state, or the initial one when there is none. A state of another version is refused
    rather than guessed (an older watermark would re-read, a newer one would skip)."""
    if text is None or text.strip() == "":
        return initial_state()
    state = json.loads(text)
    if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
        raise ValueError(f"unsupported extraction state: {text[:200]}")
    wm = state.get("watermark")
    if wm is not None and (not isinstance(wm, int) or isinstance(wm, bool)):
        raise ValueError(f"the watermark must be an integer (microseconds), got {wm!r}")
    return {
        "version": STATE_VERSION,
        "watermark": wm,
        "lastReconcileAt": state.get("lastReconcileAt"),
        "runs": int(state.get("runs", 0)),
    }


def dump_state(state: dict) -> str:
    return json.dumps(state, sort_keys=True, separators=(",", ":"))


def plan_run(state: dict, now_s: int, overlap_s: int, reconcile_every_h: float) -> dict:
    """What the next run reads: `{"reconcile": bool, "lower": int | None}`.

    `lower` is an exclusive lower bound on `_source_version` (microseconds); None reads everything. A
    table without a watermark, or whose last reconcile is `reconcile_every_h` hours old or more, is read
    whole and reconciled.
    """
    if overlap_s < 0:
        raise ValueError("the overlap must not be negative")
    last = state.get("lastReconcileAt")
    due = state.get("watermark") is None or last is None or now_s - int(last) >= reconcile_every_h * 3600
    if due:
        return {"reconcile": True, "lower": None}
    return {"reconcile": False, "lower": int(state["watermark"]) - overlap_s * 1_000_000}


def advance(state: dict, batch_max_version: Optional[int], reconciled: bool, now_s: int) -> dict:
    """The state after a committed run. Call it only once the MERGE committed. The watermark never moves
    back (a batch of older rows, or an empty one, keeps it)."""
    old = state.get("watermark")
    new = old
    if batch_max_version is not None:
        new = batch_max_version if old is None else max(int(old), int(batch_max_version))
    return {
        "version": STATE_VERSION,
        "watermark": new,
        "lastReconcileAt": now_s if reconciled else state.get("lastReconcileAt"),
        "runs": int(state.get("runs", 0)) + 1,
    }


def watermark_age_s(state: dict, now_s: int) -> Optional[float]:
    """Seconds between now and the watermark (None before the first commit): the lag metric."""
    wm = state.get("watermark")
    return None if wm is None else max(0.0, now_s - int(wm) / 1_000_000)


# ---- MERGE ----------------------------------------------------------------------------------------


def merge_sql(
    dialect: str,
    target: str,
    keys: Sequence[str],
    columns: Sequence[str],
    reconcile: bool,
    source: str = BATCH_VIEW,
) -> str:
    """The MERGE of one batch into its Iceberg table (Spark) or a DuckDB table (tests): the same text but
    for quoting.

    `columns` are the curated columns, keys included; the batch also has `_source_version` and
    `_extracted_at`. The batch is reduced to its newest version per key first (Spark refuses a MERGE in
    which two source rows match one target row). A matched row is updated only by a strictly newer
    version; a reconcile run also deletes the rows absent from the (complete) batch.
    """
    keys = [_identifier(k) for k in keys]
    cols = [_identifier(c) for c in columns]
    if not keys:
        raise ValueError("a MERGE needs at least one key column")
    missing = [k for k in keys if k not in cols]
    if missing:
        raise ValueError(f"key columns {missing} are not among the columns")
    q = lambda n: quote(n, dialect)  # noqa: E731
    every = cols + [VERSION_COLUMN, EXTRACTED_AT_COLUMN]
    partition = ", ".join(q(k) for k in keys)
    deduped = (
        f"SELECT {', '.join(q(c) for c in every)} FROM ("
        f"SELECT *, ROW_NUMBER() OVER (PARTITION BY {partition} ORDER BY {q(VERSION_COLUMN)} DESC) AS __rn "
        f"FROM {q(source)}) WHERE __rn = 1"
    )
    on = " AND ".join(f"t.{q(k)} = s.{q(k)}" for k in keys)
    updates = ", ".join(f"{q(c)} = s.{q(c)}" for c in every if c not in keys)
    lines = [
        f"MERGE INTO {q(target)} AS t",
        f"USING ({deduped}) AS s",
        f"ON {on}",
        f"WHEN MATCHED AND s.{q(VERSION_COLUMN)} > t.{q(VERSION_COLUMN)} THEN UPDATE SET {updates}",
        f"WHEN NOT MATCHED THEN INSERT ({', '.join(q(c) for c in every)}) "
        f"VALUES ({', '.join('s.' + q(c) for c in every)})",
    ]
    if reconcile:
        lines.append("WHEN NOT MATCHED BY SOURCE THEN DELETE")
    return "\n".join(lines)


# ---- Cassandra ------------------------------------------------------------------------------------


def cassandra_select_sql(catalog: str, keyspace: str, table: str, keys: Sequence[str], columns: Sequence[str]) -> str:
    """The Spark SQL read of one Cassandra table through the connector's catalog, with the write time of
    every regular column (`WRITETIME` is not defined on primary-key columns, so those get none).

    `writetime()` is the Spark Cassandra Connector's function, registered by `CassandraSparkExtensions`.
    The connector splits the scan by token range into Spark partitions; CQL cannot filter on
    `WRITETIME`, so the version filter is applied after the read (`cassandra_version_filter`).
    """
    keys = [_identifier(k) for k in keys]
    cols = [_identifier(c) for c in columns]
    regular = [c for c in cols if c not in keys]
    if not regular:
        raise ValueError(f"{keyspace}.{table} has no regular column: a row without one has no write time")
    q = lambda n: quote(n, "spark")  # noqa: E731
    selected = [q(c) for c in cols] + [f"writetime({q(c)}) AS {q(WRITETIME_PREFIX + c)}" for c in regular]
    return f"SELECT {', '.join(selected)} FROM {q(catalog)}.{q(_identifier(keyspace))}.{q(_identifier(table))}"


def cassandra_version_expr(keys: Sequence[str], columns: Sequence[str]) -> str:
    """Spark SQL: the row's version, the greatest write time of its regular columns (0 when every one is
    null, i.e. a row whose regular columns were all deleted: only a reconcile keeps it)."""
    regular = [c for c in columns if c not in keys]
    parts = ", ".join(f"{quote(WRITETIME_PREFIX + c, 'spark')}" for c in regular)
    return f"coalesce({'greatest(' + parts + ')' if len(regular) > 1 else parts}, 0)"


def row_version(writetimes: Sequence[Optional[int]]) -> int:
    """The same rule in Python (tests, and a row at a time): the greatest non-null write time, else 0."""
    known = [int(w) for w in writetimes if w is not None]
    return max(known) if known else 0


def cassandra_version_filter(lower: Optional[int]) -> Optional[str]:
    """The filter of an incremental read (None on a full read)."""
    return None if lower is None else f"{quote(VERSION_COLUMN, 'spark')} > {int(lower)}"


# ---- Elasticsearch / OpenSearch -------------------------------------------------------------------


def es_query(cursor_field: str, lower: Optional[int]) -> dict:
    """The query of one index read: a range on the cursor field above `lower` (microseconds, exclusive),
    or every document on a full read. The bound is sent as epoch milliseconds, rounded down, with
    `gte`: a document in the same millisecond as the bound is read again (a no-op), never skipped."""
    if not cursor_field or not isinstance(cursor_field, str):
        raise ValueError("a cursor field is required")
    if lower is None:
        return {"query": {"match_all": {}}}
    millis = int(lower) // 1000
    return {"query": {"range": {cursor_field: {"gte": millis, "format": "epoch_millis"}}}}


_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$"
)


def es_cursor_micros(value) -> int:
    """A cursor value as Elasticsearch returns it (epoch millis as a number or string, or an ISO-8601
    date) in microseconds; 0 when absent (such a document is only kept by a reconcile)."""
    import datetime as dt

    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise ValueError(f"not a date: {value!r}")
    if isinstance(value, (int, float)):
        return int(value) * 1000
    text = str(value).strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text) * 1000
    m = _ISO.match(text)
    if not m:
        raise ValueError(f"not a date: {value!r}")
    y, mo, d, h, mi, s, frac, tz = m.groups()
    micros = int((frac or "0").ljust(6, "0")[:6])
    offset = dt.timedelta(0)
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        offset = sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    when = dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), micros, dt.timezone.utc)
    when -= offset
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    delta = when - epoch
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def es_document_row(doc_id: str, source: Dict[str, object], fields: Sequence[dict], cursor_field: str) -> dict:
    """One document as a curated row: `doc_id`, each declared field by its (dotted) path, the version."""
    if not doc_id:
        raise ValueError("a document without _id")
    row: Dict[str, object] = {"doc_id": doc_id}
    for f in fields:
        row[f["name"]] = _path(source, f.get("field", f["name"]))
    row[VERSION_COLUMN] = es_cursor_micros(_path(source, cursor_field))
    return row


def _path(doc: Dict[str, object], path: str):
    cur: object = doc
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def es_read_options(index: str, cursor_field: str, lower: Optional[int]) -> Dict[str, str]:
    """Options of the Glue OpenSearch connector for one index read (besides `connectionName`)."""
    if not index or any(c in index for c in ",*\" \\/"):
        raise ValueError(f"one concrete index name is required, got {index!r}")
    return {
        "opensearch.resource": index,
        "opensearch.query": json.dumps(es_query(cursor_field, lower), separators=(",", ":")),
        # `_id` is metadata, not a field of _source: ask the connector for it.
        "opensearch.read.metadata": "true",
    }


def table_names(source: str, table: str) -> str:
    """The curated Glue table of a source table: `<source>_<table>` in lower case, '-' as '_'."""
    return f"{source}_{table}".replace("-", "_").lower()


# A reconcile deletes every curated row its read did not return. A read that came back short (a node
# down, a wrong consistency level, an index alias swapped to an empty index) would then empty the table,
# so a reconcile that would delete more than this share of the rows is refused and alarms instead.
MAX_RECONCILE_DELETE_FRACTION = 0.5


def reconcile_refusal(batch_keys: int, table_rows: int, would_delete: int,
                      max_fraction: float = MAX_RECONCILE_DELETE_FRACTION) -> Optional[str]:
    """Why a reconcile must not run (None when it may): it would delete more than `max_fraction` of the
    table's rows, or the read returned nothing for a table that has rows."""
    if table_rows == 0:
        return None
    if batch_keys == 0:
        return f"the full read returned no row while the table has {table_rows}: refusing to delete them all"
    if would_delete > max_fraction * table_rows:
        return (
            f"the full read would delete {would_delete} of {table_rows} rows (more than "
            f"{max_fraction:.0%}): refusing; check the source, then run with --force_reconcile true"
        )
    return None


def check_batch_keys(rows: List[dict], keys: Sequence[str]) -> List[str]:
    """Problems that would make the MERGE wrong: a row without a key value (it could never match)."""
    problems = []
    for k in keys:
        missing = sum(1 for r in rows if r.get(k) is None)
        if missing:
            problems.append(f"{missing} row(s) without key column {k}")
    return problems
