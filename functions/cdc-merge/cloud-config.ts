/**
 * What the Glue job needs, rendered at deploy time from the same spec the tests replay locally.
 *
 * The infrastructure uploads `glue_job.py` and one JSON document per table (`renderGlueJobConfig`)
 * to the scripts bucket; the job executes the JSON's Spark SQL steps verbatim, so no SQL is
 * maintained twice.
 */
import * as path from "node:path";
import { DEFAULT_MAX_FILES_PER_BATCH } from "./files";
import {
  BATCH_VIEW,
  SOURCE_FILE_COLUMN,
  SOURCE_ROW_COLUMN,
  HORIZON_PLACEHOLDER,
  STEP_ORDER,
  defaultTableNames,
  generateMergeSql,
  type CdcStep,
  type CdcTableNames,
} from "./merge-sql";
import { HIDDEN_COLUMNS, PSEUDONYMISE_FUNCTION, batchColumns, type CdcTableSpec } from "./spec";

/** Absolute path of the job script, for a `pulumi.asset.FileAsset`. */
export const GLUE_JOB_SCRIPT = path.join(__dirname, "glue_job.py");

/** Glue 5.0 (Spark 3.5): `_metadata.row_index` for Parquet needs Spark 3.4+ (SPARK-37980). */
export const GLUE_VERSION = "5.0";

/**
 * Default arguments of the Glue job (`aws.glue.Job.defaultArguments`). `--datalake-formats iceberg`
 * puts the Iceberg runtime on the classpath; the catalog itself is configured by the script.
 * https://docs.aws.amazon.com/glue/latest/dg/aws-glue-programming-etl-format-iceberg.html
 * Per-run arguments the job requires: `--config_s3_uri`, `--source_s3_prefix`, `--warehouse_s3_uri`, and
 * `--pseudonymisation_secret_arn` when the table pseudonymises a column (the cell key in Secrets Manager).
 */
export const GLUE_JOB_DEFAULT_ARGUMENTS: Readonly<Record<string, string>> = {
  "--datalake-formats": "iceberg",
  "--enable-metrics": "true",
  "--enable-continuous-cloudwatch-log": "true",
  "--job-language": "python",
  // The ledger decides which files a run reads; Glue bookmarks would be a second, competing record.
  "--job-bookmark-option": "job-bookmark-disable",
  "--max_batches_per_run": "20",
};

/**
 * Hours a tombstone is kept after its delete was committed. It only has to outlive out-of-order delivery
 * of older changes; DMS writes a table's changes in commit order, and the job purges only when no file
 * is pending. 23 h, plus the 15-minute schedule, keeps an erased key out of the current tombstone
 * snapshot within the day that `maintenanceForSla` budgets before snapshot expiry.
 */
export const TOMBSTONE_RETENTION_HOURS = 23;

export interface GlueJobConfig {
  readonly version: 1;
  readonly table: string;
  readonly keyColumns: readonly string[];
  readonly columns: readonly string[];
  /** Raw columns `cdc_batch` carries: `columns` plus pseudonymised sources that are not copied. */
  readonly batchColumns: readonly string[];
  readonly pseudonymise: CdcTableSpec["pseudonymise"];
  /** Name the job registers its HMAC UDF under before running the steps. */
  readonly pseudonymiseFunction: string;
  readonly opColumn: string;
  readonly timestampColumn: string;
  readonly changeSeqColumn: string;
  readonly hiddenColumns: typeof HIDDEN_COLUMNS;
  readonly batchView: string;
  readonly sourceFileColumn: string;
  readonly sourceRowColumn: string;
  readonly names: CdcTableNames;
  /**
   * The suppression list the steps read (`names.suppression`) when the table pseudonymises, else null.
   * The program declares it; the job checks it exists before the first batch and never creates it.
   */
  readonly suppressionTable: string | null;
  readonly maxFilesPerBatch: number;
  readonly stepOrder: readonly string[];
  readonly steps: readonly CdcStep[];
  /** Run after a run that left no file pending; `placeholder` becomes `tombstone_horizon(now, hours)`. */
  readonly purgeTombstones: { readonly sql: string; readonly placeholder: string; readonly retentionHours: number };
}

export interface GlueJobConfigOptions {
  /** Spark catalog name the script registers for the Glue Data Catalog. @default "glue_catalog" */
  readonly catalog?: string;
  /** Glue database of the curated table (its tombstones and ledger live next to it). */
  readonly database: string;
  /** @default DEFAULT_MAX_FILES_PER_BATCH */
  readonly maxFilesPerBatch?: number;
  /** @default TOMBSTONE_RETENTION_HOURS */
  readonly tombstoneRetentionHours?: number;
}

/** The JSON document glue_job.py loads from `--config_s3_uri`. */
export function renderGlueJobConfig(spec: CdcTableSpec, options: GlueJobConfigOptions): GlueJobConfig {
  const names = defaultTableNames(spec, `${options.catalog ?? "glue_catalog"}.${options.database}`);
  const sql = generateMergeSql(spec, "spark", names);
  return {
    version: 1,
    table: spec.name,
    keyColumns: spec.keyColumns,
    columns: spec.columns,
    batchColumns: batchColumns(spec),
    pseudonymise: spec.pseudonymise,
    pseudonymiseFunction: PSEUDONYMISE_FUNCTION,
    opColumn: spec.opColumn,
    timestampColumn: spec.timestampColumn,
    changeSeqColumn: spec.changeSeqColumn,
    hiddenColumns: HIDDEN_COLUMNS,
    batchView: BATCH_VIEW,
    sourceFileColumn: SOURCE_FILE_COLUMN,
    sourceRowColumn: SOURCE_ROW_COLUMN,
    names,
    suppressionTable: spec.pseudonymise.length > 0 ? names.suppression : null,
    maxFilesPerBatch: options.maxFilesPerBatch ?? DEFAULT_MAX_FILES_PER_BATCH,
    stepOrder: STEP_ORDER,
    steps: sql.steps,
    purgeTombstones: {
      sql: sql.purgeTombstones,
      placeholder: HORIZON_PLACEHOLDER,
      retentionHours: options.tombstoneRetentionHours ?? TOMBSTONE_RETENTION_HOURS,
    },
  };
}
