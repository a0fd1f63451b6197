"""Glue 5.0 (Spark 3.5) job: apply AWS DMS change files to one Iceberg table, exactly once.

The SQL is not written here. At deploy time the stack renders, from the same table spec the local
tests replay on DuckDB, a JSON document (functions/cdc-merge/cloud-config.ts, renderGlueJobConfig)
holding the Spark SQL steps; this script only lists files, registers each batch as the view the
steps read (`cdc_batch`) and runs the steps in order. See README.md for the semantics.

Job arguments:
  --config_s3_uri        s3://<scripts>/cdc-merge/<table>.json   (renderGlueJobConfig output)
  --source_s3_prefix     s3://<raw>/<bucketFolder>/<schema>/<table>/   (DMS writes one folder per table)
  --warehouse_s3_uri     s3://<warehouse>/iceberg/   (Iceberg warehouse of the Glue catalog)
  --max_batches_per_run  optional, default 20: a bounded run, the next schedule continues
  --pseudonymisation_secret_arn  Secrets Manager ARN of the cell's pseudonymisation key; required when
                         the config pseudonymises a column (the job refuses to run without it)

A table that pseudonymises reads the cell's suppression list (`suppressionTable` in the config, erased
subjects' pseudonyms): the program declares it, the job checks it is there and never creates it.

Exactly once: a file is recorded in the ledger only after the table merge committed; a run applies
every file not in the ledger. Re-applying a file is a no-op (watermarks only move forward), so a
crash anywhere, a retried run or two overlapping runs leave the same table.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import sys
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

# Full-load files: LOAD + hexadecimal counter (DMS S3 target docs); CDC files are named by timestamp.
FULL_LOAD_FILE = re.compile(r"(^|/)LOAD[0-9A-F_]+\.parquet$", re.IGNORECASE)
DEFAULT_MAX_BATCHES_PER_RUN = 20


# ---- pure helpers (mirrored by functions/cdc-merge/files.ts; test/cdc checks they agree) ----


def order_files(paths: Iterable[str]) -> List[str]:
    """Full-load files first, then CDC files, each group by path (same as orderFiles in files.ts)."""
    return sorted(paths, key=lambda p: (0 if FULL_LOAD_FILE.search(p) else 1, p.encode("utf-8")))


def to_batches(files: Sequence[str], max_files: int) -> List[List[str]]:
    if max_files < 1:
        raise ValueError(f"max files per batch must be a positive integer, got {max_files}")
    return [list(files[i : i + max_files]) for i in range(0, len(files), max_files)]


def pending_files(listed: Iterable[str], applied: Iterable[str]) -> List[str]:
    """Files not in the ledger. Never "newer than the last one": a late file must not be skipped."""
    done = set(applied)
    return order_files(p for p in listed if p.lower().endswith(".parquet") and p not in done)


def rejected_counters(row: Dict[str, object]) -> Dict[str, int]:
    """Non-zero counters of the `validate` step; any one rejects the batch."""
    return {k: int(v) for k, v in row.items() if v is not None and int(v) > 0}


NAMED_FILES = 5  # files a problem names before "and N more" (nameFiles in duckdb-applier.ts)


def _name_files(files: Sequence[str]) -> str:
    shown = ", ".join(files[:NAMED_FILES])
    return f"{shown} and {len(files) - NAMED_FILES} more" if len(files) > NAMED_FILES else shown


def type_family(t: str) -> str:
    """Every integer width is one family, other types only equal themselves (typeFamily in TS)."""
    t = t.strip().lower()
    return "integer" if re.fullmatch(r"u?(tinyint|smallint|int|integer|bigint|hugeint)|byte|short|long", t) else t


def schema_problems(cfg: dict, schemas: Sequence[dict], table_types: Optional[Dict[str, str]] = None) -> List[str]:
    """schemaProblems in duckdb-applier.ts, same rule and same messages (test/cdc checks both agree).

    `schemas`: [{"file": path, "columns": [[name, type], ...]}] in batch order; `table_types`: column
    (lower case) -> type of the existing table. A CDC file without the op/ts/seq column would be read as
    full-load rows (its deletes ignored); a key or pseudonymised column whose type family changes between
    files (or from the table's) compares '1' with '01' and misses its row.
    """
    table_types = table_types or {}
    problems: List[str] = []
    by_file = [(s["file"], {n.lower(): t for n, t in s["columns"]}) for s in schemas]
    cdc_files = [(f, types) for f, types in by_file if not FULL_LOAD_FILE.search(f)]
    for column, role in (
        (cfg["opColumn"], "the CDC op column"),
        (cfg["timestampColumn"], "the commit timestamp column"),
        (cfg["changeSeqColumn"], "the change sequence column"),
    ):
        missing = [f for f, types in cdc_files if column.lower() not in types]
        if missing:
            problems.append(
                f'no column "{column}" ({role}) in {len(missing)} CDC file(s): {_name_files(missing)}; '
                "its rows would be applied as full-load rows and its deletes ignored"
            )
    typed = [(c, "key column") for c in cfg["keyColumns"]] + [
        (p["column"], "pseudonymised column") for p in cfg["pseudonymise"]
    ]
    seen = set()
    for column, role in typed:
        lower = column.lower()
        if lower in seen:
            continue
        seen.add(lower)
        first_of_family: Dict[str, str] = {}
        if lower in table_types:
            first_of_family[type_family(table_types[lower])] = f"{table_types[lower]} in the table"
        for f, types in by_file:
            t = types.get(lower)
            if t is not None and type_family(t) not in first_of_family:
                first_of_family[type_family(t)] = f"{t} in {f}"
        if len(first_of_family) > 1:
            problems.append(
                f'{role} "{column}" changes type between files: {", ".join(first_of_family.values())}; '
                "values of different types do not match, so a change could miss its row"
            )
    return problems


def explain_line(key_columns: Sequence[str], row: Dict[str, object]) -> str:
    """One row of a check's `explain` query (explainLine in duckdb-applier.ts)."""
    key = ", ".join(f"{k}={json.dumps(row.get(k), ensure_ascii=False)}" for k in key_columns)
    return f"duplicate full-load key ({key}) in {row.get('files')}"


def quote(name: str) -> str:
    """Spark identifier quoting, as merge-sql.ts does for the spark dialect."""
    return ".".join("`" + part.replace("`", "``") + "`" for part in name.split("."))


MIN_KEY_BYTES = 32  # RFC 2104 section 3: shorter than the SHA-256 output weakens HMAC


def decode_key(text: str) -> bytes:
    """The cell key as stored (hex, else base64): decodeHmacKey in functions/collector/privacy.ts."""
    t = text.strip()
    key = bytes.fromhex(t) if re.fullmatch(r"[0-9a-fA-F]+", t) and len(t) % 2 == 0 else base64.b64decode(t)
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the pseudonymisation key must decode (hex or base64) to at least {MIN_KEY_BYTES} bytes")
    return key


def pseudonymise(key: bytes, value):
    """HMAC-SHA256 of the value's UTF-8 text, lower-case hex; None stays None.

    The collector's Pseudonymiser.hash and the DuckDB function compute the same (test/cdc proves it), so
    a customer id pseudonymised here joins the userId pseudonymised at the edge. The SQL casts the column
    to STRING before the call, so integers arrive as their decimal text, as at the edge.
    """
    if value is None:
        return None
    return hmac.new(key, str(value).encode("utf-8"), hashlib.sha256).hexdigest()


HORIZON_PATTERN = re.compile(r"^1#\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$")


def tombstone_horizon(now, retention_hours: float) -> str:
    """`1#<now - hours, UTC, microseconds>`: tombstoneHorizon in merge-sql.ts (millisecond precision, as JS)."""
    from datetime import timedelta, timezone

    if not retention_hours > 0:
        raise ValueError(f"tombstone retention must be positive hours, got {retention_hours}")
    t = (now.astimezone(timezone.utc) - timedelta(hours=retention_hours)).replace(tzinfo=None)
    return "1#" + t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d}000"


def purge_sql(cfg: dict, horizon: str) -> str:
    """The purge statement with the horizon filled in, after checking it is a watermark prefix."""
    if not HORIZON_PATTERN.match(horizon):
        raise ValueError(f"not a tombstone horizon: {horizon!r}")
    purge = cfg["purgeTombstones"]
    return purge["sql"].replace(purge["placeholder"], horizon)


def split_s3_uri(uri: str) -> Tuple[str, str]:
    m = re.match(r"^s3a?://([^/]+)/?(.*)$", uri)
    if not m:
        raise ValueError(f"not an s3:// URI: {uri}")
    return m.group(1), m.group(2)


# ---- cloud side (imported lazily so the helpers above run without Spark) ----


def load_config(s3, uri: str) -> dict:
    bucket, key = split_s3_uri(uri)
    cfg = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    if cfg.get("version") != 1:
        raise ValueError(f"unsupported config version {cfg.get('version')}")
    if [s["name"] for s in cfg["steps"]] != list(cfg["stepOrder"]):
        raise ValueError("config steps are not in the declared order")
    return cfg


def list_parquet(s3, prefix_uri: str) -> List[str]:
    bucket, prefix = split_s3_uri(prefix_uri)
    out: List[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            if obj["Key"].lower().endswith(".parquet"):
                out.append(f"s3://{bucket}/{obj['Key']}")
    return out


def applied_files(spark, ledger: str) -> List[str]:
    from pyspark.sql.utils import AnalysisException

    try:
        return [r.file_path for r in spark.sql(f"SELECT file_path FROM {quote(ledger)}").collect()]
    except AnalysisException:  # first run: the ledger is created by the steps
        return []


def register_batch(spark, cfg: dict, files: Sequence[str]) -> None:
    """`cdc_batch`: table columns + op/ts/seq + the listed path and row index of every row.

    Mirrors DuckDbCdcApplier.registerBatch. Each file is read on its own so the lineage column is
    the exact listed path (the ledger key), not Spark's URL-encoded _metadata.file_path; the row
    index is Parquet's _metadata.row_index (Spark 3.4+, SPARK-37980). Columns absent from a file
    (full-load files have no Op) become typed NULLs via unionByName(allowMissingColumns=True).
    """
    from functools import reduce

    from pyspark.sql import functions as F

    src_file, src_row = cfg["sourceFileColumn"], cfg["sourceRowColumn"]
    raw, unreadable = [], []
    for path in files:
        try:
            raw.append((path, spark.read.parquet(path)))
        except Exception as e:  # noqa: BLE001 - name the file, whatever Spark raised
            unreadable.append(f"{path}: cannot be read as Parquet: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
    if unreadable:
        raise ValueError("\n".join(unreadable))
    target_types = {}
    try:
        target_types = {f.name.lower(): f.dataType for f in spark.table(quote(cfg["names"]["table"])).schema.fields}
    except Exception:  # noqa: BLE001 - first run, the table does not exist yet
        pass
    # The same schema rule as the local replay, per batch and against the table's types.
    problems = schema_problems(
        cfg,
        [{"file": p, "columns": [[f.name, f.dataType.simpleString()] for f in d.schema.fields]} for p, d in raw],
        {n: t.simpleString() for n, t in target_types.items()},
    )
    if problems:
        raise ValueError("\n".join(problems))
    frames = [
        d.select("*", F.lit(path).alias(src_file), F.col("_metadata.row_index").alias(src_row)) for path, d in raw
    ]
    df = reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), frames)
    present = {c.lower() for c in df.columns}
    wanted = list(cfg["batchColumns"]) + [cfg["opColumn"], cfg["timestampColumn"], cfg["changeSeqColumn"]]
    cols = []
    for c in wanted:
        expr = F.col(quote(c)) if c.lower() in present else F.lit(None).cast(target_types.get(c.lower(), "string"))
        if c.lower() in target_types:
            expr = expr.cast(target_types[c.lower()])
        cols.append(expr.alias(c))
    df.select(*cols, F.col(src_file), F.col(src_row)).createOrReplaceTempView(cfg["batchView"])


def register_pseudonymise(spark, cfg: dict, secret_arn) -> None:
    """Registers the steps' HMAC function over the cell key (only when the table pseudonymises)."""
    if not cfg["pseudonymise"]:
        return
    if not secret_arn:
        raise ValueError(
            f"table {cfg['table']} pseudonymises {[p['column'] for p in cfg['pseudonymise']]}: "
            "--pseudonymisation_secret_arn is required"
        )
    import boto3
    from pyspark.sql.types import StringType

    secret = boto3.client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
    key = decode_key(secret)
    # The key reaches the executors inside the UDF's pickled closure and stays in job memory: it is
    # never printed, written or put in a column. Only its HMACs leave the UDF.
    spark.udf.register(cfg["pseudonymiseFunction"], lambda v: pseudonymise(key, v), StringType())


SUPPRESSION_PSEUDONYM_COLUMN = "pseudonym"  # functions/cdc-merge/suppression.ts


def require_suppression_table(spark, cfg: dict) -> None:
    """Fails before any batch when a pseudonymising table's suppression list is missing or has no pseudonym.

    The program declares `subject_suppression` (an Iceberg table of erased subjects' pseudonyms); the job
    only reads it and never creates it, so a missing table is a deployment fault to report, not to paper
    over: merging without the list could bring an erased subject back.
    """
    name = cfg.get("suppressionTable")
    if not name:
        return
    try:
        fields = {f.name.lower(): f.dataType.simpleString() for f in spark.table(quote(name)).schema.fields}
    except Exception as e:  # noqa: BLE001 - AnalysisException and catalog errors alike: name the table
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ValueError(
            f"table {cfg['table']} pseudonymises, but its suppression list {name} cannot be read ({first}); "
            "it is declared by the program (subject-rights), not by this job"
        ) from e
    if fields.get(SUPPRESSION_PSEUDONYM_COLUMN) != "string":
        raise ValueError(
            f"suppression list {name} has no string column {SUPPRESSION_PSEUDONYM_COLUMN!r} (columns: {fields})"
        )


def run_steps(spark, cfg: dict) -> None:
    for step in cfg["steps"]:
        if step["kind"] == "check":
            problems = rejected_counters(spark.sql(step["sql"]).collect()[0].asDict())
            if problems:
                found = []
                if step.get("explain"):
                    found = [explain_line(cfg["keyColumns"], r.asDict()) for r in spark.sql(step["explain"]).collect()]
                raise RuntimeError(f"CDC batch rejected by {step['name']}: {problems}" + "".join(f"\n  {f}" for f in found))
        else:
            spark.sql(step["sql"])


def main(argv: List[str]) -> None:
    import boto3
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.conf import SparkConf
    from pyspark.context import SparkContext

    args = getResolvedOptions(argv, ["JOB_NAME", "config_s3_uri", "source_s3_prefix", "warehouse_s3_uri"])
    optional = {}
    for name in ("max_batches_per_run", "pseudonymisation_secret_arn"):
        if f"--{name}" in argv:
            optional.update(getResolvedOptions(argv, [name]))
    max_batches = int(optional.get("max_batches_per_run", DEFAULT_MAX_BATCHES_PER_RUN))

    s3 = boto3.client("s3")
    cfg = load_config(s3, args["config_s3_uri"])
    catalog = cfg["names"]["table"].split(".")[0]

    # Iceberg on the Glue Data Catalog:
    # https://docs.aws.amazon.com/glue/latest/dg/aws-glue-programming-etl-format-iceberg.html
    conf = SparkConf()
    conf.set("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
    conf.set(f"spark.sql.catalog.{catalog}", "org.apache.iceberg.spark.SparkCatalog")
    conf.set(f"spark.sql.catalog.{catalog}.catalog-impl", "org.apache.iceberg.aws.glue.GlueCatalog")
    conf.set(f"spark.sql.catalog.{catalog}.io-impl", "org.apache.iceberg.aws.s3.S3FileIO")
    conf.set(f"spark.sql.catalog.{catalog}.warehouse", args["warehouse_s3_uri"])
    # The watermark renders commit timestamps with date_format, which uses the session zone; the
    # local DuckDB applier pins TimeZone to UTC the same way.
    conf.set("spark.sql.session.timeZone", "UTC")
    sc = SparkContext.getOrCreate(conf)
    glue = GlueContext(sc)
    spark = glue.spark_session
    job = Job(glue)
    job.init(args["JOB_NAME"], args)
    register_pseudonymise(spark, cfg, optional.get("pseudonymisation_secret_arn"))
    require_suppression_table(spark, cfg)

    listed = list_parquet(s3, args["source_s3_prefix"])
    todo = pending_files(listed, applied_files(spark, cfg["names"]["ledger"]))
    batches = to_batches(todo, int(cfg["maxFilesPerBatch"]))[:max_batches]
    for i, batch in enumerate(batches):
        register_batch(spark, cfg, batch)
        run_steps(spark, cfg)
        print(json.dumps({"table": cfg["table"], "batch": i + 1, "of": len(batches), "files": len(batch)}))
    pending = max(0, len(todo) - sum(len(b) for b in batches))
    print(json.dumps({"table": cfg["table"], "pending_after_run": pending}))
    # Tombstones only have to outlive out-of-order delivery. With nothing pending, every change
    # older than the horizon has been applied; DMS writes newer ones in commit order. Purging keeps
    # erased subjects' keys no longer than the erasure budget (README, "Tombstone purge").
    if pending == 0:
        from datetime import datetime, timezone

        horizon = tombstone_horizon(datetime.now(timezone.utc), float(cfg["purgeTombstones"]["retentionHours"]))
        spark.sql(purge_sql(cfg, horizon))
        print(json.dumps({"table": cfg["table"], "tombstones_purged_before": horizon}))
    job.commit()


if __name__ == "__main__":
    main(sys.argv)
