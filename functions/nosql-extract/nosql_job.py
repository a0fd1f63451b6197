"""Glue 5.0 (Spark 3.5) job: extract one Cassandra or Elasticsearch/OpenSearch source into Iceberg.

One job per source; each run walks the source's tables (Cassandra) or indices (Elasticsearch), and per
table: load the state, plan the read (incremental above the watermark, or a full reconcile), read
through the connector, MERGE into the curated Iceberg table, then, only after the commit, store the
advanced state and publish the lag metrics. See README.md for the semantics; the logic is in
extract_core.py (tested in python3 by test/sources/nosql/).

Job arguments:
  --config_s3_uri   s3://<warehouse>/_system/glue/nosql-extract/config/<source>.json (rendered by the stack)
  --state_s3_uri    s3://<warehouse>/_system/nosql-extract/state/<source>/   (one JSON object per table)
  --warehouse_s3_uri  s3://<warehouse>/curated/
  --secret_arn      Secrets Manager ARN of the source's credentials (Cassandra; the Elasticsearch connection
                    names its secret itself)
  --force_reconcile optional, "true": run a reconcile even if it deletes more than the safety share
"""

from __future__ import annotations

import json
import sys
import time
from typing import Dict, Optional, Tuple

from extract_core import (
    BATCH_VIEW,
    EXTRACTED_AT_COLUMN,
    VERSION_COLUMN,
    WRITETIME_PREFIX,
    advance,
    cassandra_select_sql,
    cassandra_version_expr,
    cassandra_version_filter,
    dump_state,
    es_read_options,
    merge_sql,
    parse_state,
    plan_run,
    quote,
    reconcile_refusal,
    watermark_age_s,
)

CASSANDRA_CATALOG = "cassandra"
METRIC_NAMESPACE = "Lakehouse/Sources"


def split_s3(uri: str) -> Tuple[str, str]:
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri}")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def read_state(s3, uri: str) -> dict:
    bucket, key = split_s3(uri)
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
    except s3.exceptions.NoSuchKey:
        body = None
    return parse_state(body)


def write_state(s3, uri: str, state: dict) -> None:
    bucket, key = split_s3(uri)
    # The bucket's default encryption (lake key) applies; the role may write only this prefix.
    s3.put_object(Bucket=bucket, Key=key, Body=dump_state(state).encode("utf-8"), ContentType="application/json")


def spark_conf(cfg: dict, warehouse: str, secret: Optional[Dict[str, str]]):
    from pyspark.conf import SparkConf

    conf = SparkConf()
    catalog = cfg["catalog"]
    extensions = ["org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"]
    if cfg["kind"] == "cassandra":
        # writetime() in Spark SQL and the Cassandra catalog (Spark Cassandra Connector 3.x).
        extensions.append("com.datastax.spark.connector.CassandraSparkExtensions")
        conf.set(f"spark.sql.catalog.{CASSANDRA_CATALOG}", "com.datastax.spark.connector.datasource.CassandraCatalog")
        conf.set("spark.cassandra.connection.host", ",".join(cfg["contactPoints"]))
        conf.set("spark.cassandra.connection.port", str(cfg["port"]))
        conf.set("spark.cassandra.connection.ssl.enabled", "true")
        if cfg.get("localDc"):
            conf.set("spark.cassandra.connection.localDC", cfg["localDc"])
        conf.set("spark.cassandra.input.consistency.level", cfg["consistency"])
        conf.set("spark.cassandra.input.split.sizeInMB", str(cfg["splitSizeMb"]))
        conf.set("spark.cassandra.auth.username", secret["username"])
        conf.set("spark.cassandra.auth.password", secret["password"])
    conf.set("spark.sql.extensions", ",".join(extensions))
    conf.set(f"spark.sql.catalog.{catalog}", "org.apache.iceberg.spark.SparkCatalog")
    conf.set(f"spark.sql.catalog.{catalog}.catalog-impl", "org.apache.iceberg.aws.glue.GlueCatalog")
    conf.set(f"spark.sql.catalog.{catalog}.io-impl", "org.apache.iceberg.aws.s3.S3FileIO")
    conf.set(f"spark.sql.catalog.{catalog}.warehouse", warehouse)
    conf.set("spark.sql.session.timeZone", "UTC")
    return conf


def cassandra_batch(spark, cfg: dict, table: dict, lower: Optional[int]):
    from pyspark.sql import functions as F

    keys, columns = table["keys"], [c["name"] for c in table["columns"]]
    df = spark.sql(cassandra_select_sql(CASSANDRA_CATALOG, cfg["keyspace"], table["name"], keys, columns))
    df = df.withColumn(VERSION_COLUMN, F.expr(cassandra_version_expr(keys, columns)).cast("long"))
    flt = cassandra_version_filter(lower)
    if flt is not None:
        df = df.where(flt)
    return df.drop(*[c for c in df.columns if c.startswith(WRITETIME_PREFIX)])


def elasticsearch_batch(glue, cfg: dict, index: dict, lower: Optional[int]):
    from pyspark.sql import functions as F

    options = {"connectionName": cfg["connectionName"], **es_read_options(index["name"], index["cursorField"], lower)}
    df = glue.create_dynamic_frame.from_options(connection_type="opensearch", connection_options=options).toDF()
    cursor = ".".join(f"`{p}`" for p in index["cursorField"].split("."))
    selected = [F.col("_metadata._id").alias("doc_id")] + [
        F.col(".".join(f"`{p}`" for p in c.get("field", c["name"]).split("."))).alias(c["name"])
        for c in index["columns"]
        if c["name"] != "doc_id"
    ]
    return df.select(*selected, F.expr(f"coalesce(unix_micros(cast({cursor} AS timestamp)), 0)").alias(VERSION_COLUMN))


def run_table(spark, glue, s3, cw, cfg: dict, table: dict, args: dict) -> None:
    from pyspark.sql import functions as F

    target = f"{cfg['catalog']}.{cfg['database']}.{table['glueTable']}"
    state_uri = f"{args['state_s3_uri'].rstrip('/')}/{table['glueTable']}.json"
    state = read_state(s3, state_uri)
    now = int(time.time())
    plan = plan_run(state, now, int(cfg["overlapSeconds"]), float(cfg["reconcileEveryHours"]))
    if cfg["kind"] == "cassandra":
        batch = cassandra_batch(spark, cfg, table, plan["lower"])
    else:
        batch = elasticsearch_batch(glue, cfg, table, plan["lower"])
    # Cast to the table's types (the Iceberg table was created by the stack with them), stamp the run.
    casts = [F.col(quote(c["name"], "spark")).cast(c["sparkType"]).alias(c["name"]) for c in table["columns"]]
    batch = batch.select(*casts, F.col(VERSION_COLUMN), F.current_timestamp().alias(EXTRACTED_AT_COLUMN))
    batch = batch.persist()
    batch.createOrReplaceTempView(BATCH_VIEW)
    stats = batch.agg(F.count(F.lit(1)).alias("n"), F.max(VERSION_COLUMN).alias("max_version")).collect()[0]
    if plan["reconcile"] and args.get("force_reconcile") != "true":
        key_join = " AND ".join(f"t.{quote(k, 'spark')} = s.{quote(k, 'spark')}" for k in table["keys"])
        rows = spark.sql(f"SELECT count(*) AS n FROM {quote(target, 'spark')}").collect()[0]["n"]
        gone = spark.sql(
            f"SELECT count(*) AS n FROM {quote(target, 'spark')} t LEFT ANTI JOIN {BATCH_VIEW} s ON {key_join}"
        ).collect()[0]["n"]
        refusal = reconcile_refusal(int(stats["n"]), int(rows), int(gone))
        if refusal:
            raise RuntimeError(f"{target}: {refusal}")
    spark.sql(merge_sql("spark", target, table["keys"], [c["name"] for c in table["columns"]], plan["reconcile"]))
    # The commit is done: only now may the watermark move.
    new_state = advance(state, stats["max_version"], plan["reconcile"], now)
    write_state(s3, state_uri, new_state)
    batch.unpersist()
    dims = [{"Name": "Source", "Value": cfg["source"]}, {"Name": "Table", "Value": table["glueTable"]}]
    age = watermark_age_s(new_state, int(time.time()))
    data = [{"MetricName": "RowsMerged", "Dimensions": dims, "Value": float(stats["n"]), "Unit": "Count"}]
    if age is not None:
        data.append({"MetricName": "WatermarkAgeSeconds", "Dimensions": dims, "Value": age, "Unit": "Seconds"})
    cw.put_metric_data(Namespace=METRIC_NAMESPACE, MetricData=data)
    print(json.dumps({"table": target, "reconcile": plan["reconcile"], "rows": int(stats["n"]), "state": new_state}))


def main(argv) -> None:
    import boto3
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    args = getResolvedOptions(argv, ["JOB_NAME", "config_s3_uri", "state_s3_uri", "warehouse_s3_uri"])
    for name in ("secret_arn", "force_reconcile"):
        if f"--{name}" in argv:
            args.update(getResolvedOptions(argv, [name]))
    s3 = boto3.client("s3")
    bucket, key = split_s3(args["config_s3_uri"])
    cfg = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8"))
    secret = None
    if cfg["kind"] == "cassandra":
        if not args.get("secret_arn"):
            raise RuntimeError("--secret_arn is required for a Cassandra source")
        value = boto3.client("secretsmanager").get_secret_value(SecretId=args["secret_arn"])["SecretString"]
        secret = json.loads(value)
    sc = SparkContext.getOrCreate(spark_conf(cfg, args["warehouse_s3_uri"], secret))
    if cfg["kind"] == "cassandra":
        try:
            sc._jvm.java.lang.Class.forName("com.datastax.spark.connector.CassandraSparkExtensions")
        except Exception as e:  # noqa: BLE001
            raise RuntimeError(
                "the Spark Cassandra Connector is not on the classpath: deploy its assembly JAR "
                "(functions/nosql-extract/README.md, 'The Cassandra connector JAR')"
            ) from e
    glue = GlueContext(sc)
    spark = glue.spark_session
    job = Job(glue)
    job.init(args["JOB_NAME"], args)
    cw = boto3.client("cloudwatch")
    failures = []
    for table in cfg["tables"]:
        try:
            run_table(spark, glue, s3, cw, cfg, table, args)
        except Exception as e:  # noqa: BLE001 - one table's failure must not hide the others'; the run fails below
            failures.append(f"{table['glueTable']}: {e}")
            print(json.dumps({"table": table["glueTable"], "error": str(e)}), file=sys.stderr)
    if failures:
        raise RuntimeError("tables failed: " + "; ".join(failures))
    job.commit()


if __name__ == "__main__":
    main(sys.argv)
