/**
 * The table spec the CDC merge is generated from, and the DMS column names the stack must configure.
 *
 * One spec drives both SQL dialects (DuckDB locally, Spark SQL on Glue), so the names below are the
 * contract between three parties: the DMS S3 endpoint/task (written elsewhere, imports these
 * constants), the Glue job, and the local replay tool.
 */
import { z } from "zod";

/**
 * Column names DMS writes into the raw Parquet files, as configured by the stack.
 *
 * - `opColumn`: DMS always names the operation column `Op` (values I/U/D) in CDC files; full-load
 *   files have no `Op` column unless `IncludeOpForFullLoad` is set, which we leave off so a missing
 *   `Op` identifies a full-load row.
 *   https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Target.S3.html#CHAP_Target.S3.Configuring.InsertOps
 * - `timestampColumn`: the S3 endpoint setting `TimestampColumnName`. For CDC rows DMS writes the
 *   source commit timestamp as a STRING `yyyy-MM-dd HH:mm:ss.SSSSSS`; for full-load rows, the
 *   transfer time. https://docs.aws.amazon.com/dms/latest/APIReference/API_S3Settings.html
 * - `changeSeqColumn`: added by a table-mapping transformation rule `add-column` with expression
 *   `$AR_H_CHANGE_SEQ`: "a 35 digit unique number at task level. The first 16 digits are part of a
 *   timestamp, and the last 19 digits are the record_id number incremented by the DBMS", which
 *   orders the changes of one commit (same commit timestamp).
 *   https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Tasks.CustomizingTasks.TableMapping.SelectionTransformation.Expressions.html
 *
 * The `dms_` prefix keeps them apart from business columns (a source table may well have its own
 * `commit_ts`), and they are lower case so Spark, Athena and BigQuery need no quoting.
 */
export const DMS_DEFAULTS = {
  opColumn: "Op",
  timestampColumn: "dms_commit_ts",
  changeSeqColumn: "dms_change_seq",
} as const;

/** Width the change sequence is left-padded to inside the watermark; AR_H_CHANGE_SEQ has 35 digits. */
export const CHANGE_SEQ_WIDTH = 40;

/**
 * The S3 endpoint settings the merge depends on, named as `aws.dms.S3Endpoint` args.
 * `preserveTransactions` stays off: it forces CSV output (it is for CDC of transactions to CSV),
 * and the change sequence column already orders changes inside a commit.
 * `cdcInsertsOnly` / `cdcInsertsAndUpdates` stay off: the merge needs the deletes.
 */
export const DMS_S3_ENDPOINT_SETTINGS = {
  dataFormat: "parquet",
  parquetVersion: "parquet-2-0",
  timestampColumnName: DMS_DEFAULTS.timestampColumn,
  includeOpForFullLoad: false,
  cdcInsertsOnly: false,
  cdcInsertsAndUpdates: false,
  preserveTransactions: false,
} as const;

/** A DMS table-mapping rule (the JSON shape DMS expects in `tableMappings`). */
export interface DmsAddColumnRule {
  readonly "rule-type": "transformation";
  readonly "rule-id": string;
  readonly "rule-name": string;
  readonly "rule-target": "column";
  readonly "object-locator": { readonly "schema-name": string; readonly "table-name": string };
  readonly "rule-action": "add-column";
  readonly value: string;
  readonly expression: string;
  readonly "data-type": { readonly type: "string"; readonly length: number };
}

/**
 * The transformation rule that adds the change-sequence column to every replicated table, so the
 * DMS task and the merge cannot disagree on its name. Shape from the DMS user guide (link above).
 */
export function dmsChangeSeqRule(ruleId: string, schemaName = "%", tableName = "%"): DmsAddColumnRule {
  return {
    "rule-type": "transformation",
    "rule-id": ruleId,
    "rule-name": `${ruleId}-add-change-seq`,
    "rule-target": "column",
    "object-locator": { "schema-name": schemaName, "table-name": tableName },
    "rule-action": "add-column",
    value: DMS_DEFAULTS.changeSeqColumn,
    expression: "$AR_H_CHANGE_SEQ",
    "data-type": { type: "string", length: 50 },
  };
}

/**
 * Columns the merge keeps in the curated Iceberg table next to the source's columns.
 * `watermark` is the (phase, commit ts, change seq) of the change the row reflects, as one
 * fixed-width ASCII string so that byte order equals change order in every engine.
 * `sourceFile` is lineage for audits: the raw object the row's current version came from.
 */
export const HIDDEN_COLUMNS = {
  watermark: "_cdc_watermark",
  sourceFile: "_cdc_source_file",
} as const;

/** Prefix reserved for merge bookkeeping; a source column may not use it. */
export const RESERVED_PREFIX = "_cdc_";

/**
 * The SQL function the steps call to pseudonymise a column: HMAC-SHA256 of the value's text (UTF-8)
 * under the cell's pseudonymisation key, lower-case hex, NULL for NULL. Neither Spark SQL nor DuckDB
 * has a keyed hash, so whoever runs the steps registers it first: glue_job.py as a Spark UDF over the
 * key read from Secrets Manager, the DuckDB applier as a scalar function. It is the collector's
 * `Pseudonymiser.hash` (functions/collector/privacy.ts), so a customer id pseudonymised here equals the
 * `userId` pseudonymised at the edge and the two join (test/cdc/pseudonymise.test.ts proves all three
 * agree).
 */
export const PSEUDONYMISE_FUNCTION = "lakehouse_pseudonymise";

const identifier = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z_][A-Za-z0-9_$#]*$/, "must be a plain identifier (letters, digits, _ $ #)");

export const cdcTableSpecSchema = z
  .object({
    /** Logical table name (the curated table's name). */
    name: identifier,
    /** Primary-key columns of the source table, in order. */
    keyColumns: z.array(identifier).min(1),
    /** Every business column of the table (keys included), in table order; no CDC metadata. */
    columns: z.array(identifier).min(1),
    opColumn: identifier.default(DMS_DEFAULTS.opColumn),
    timestampColumn: identifier.default(DMS_DEFAULTS.timestampColumn),
    changeSeqColumn: identifier.default(DMS_DEFAULTS.changeSeqColumn),
    /**
     * Derived columns: `as` holds the keyed HMAC of raw column `column` (PSEUDONYMISE_FUNCTION). The raw
     * column need not be one of `columns`: a direct identifier can be pseudonymised without ever
     * reaching the curated table itself.
     */
    pseudonymise: z.array(z.strictObject({ column: identifier, as: identifier })).default([]),
  })
  .superRefine((spec, ctx) => {
    const lower = (s: string): string => s.toLowerCase();
    const cols = new Set(spec.columns.map(lower));
    if (cols.size !== spec.columns.length) {
      ctx.addIssue({
        code: "custom",
        path: ["columns"],
        message: "duplicate column (names are case-insensitive in Spark and DuckDB)",
      });
    }
    for (const k of spec.keyColumns) {
      if (!cols.has(lower(k)))
        ctx.addIssue({
          code: "custom",
          path: ["keyColumns"],
          message: `key column "${k}" is not one of the table's columns`,
        });
    }
    for (const c of spec.columns) {
      if (lower(c).startsWith(RESERVED_PREFIX))
        ctx.addIssue({
          code: "custom",
          path: ["columns"],
          message: `column "${c}" uses the reserved prefix ${RESERVED_PREFIX}`,
        });
    }
    const metas = [spec.opColumn, spec.timestampColumn, spec.changeSeqColumn];
    for (const meta of metas) {
      if (cols.has(lower(meta)))
        ctx.addIssue({
          code: "custom",
          path: ["columns"],
          message: `CDC metadata column "${meta}" must not be listed as a table column`,
        });
    }
    const derived = new Set<string>();
    spec.pseudonymise.forEach((p, i) => {
      const issue = (message: string): void => ctx.addIssue({ code: "custom", path: ["pseudonymise", i], message });
      if (cols.has(lower(p.as))) issue(`"${p.as}" is already a table column`);
      if (derived.has(lower(p.as))) issue(`"${p.as}" is derived twice`);
      if (lower(p.as).startsWith(RESERVED_PREFIX)) issue(`"${p.as}" uses the reserved prefix ${RESERVED_PREFIX}`);
      if (metas.some((m) => lower(m) === lower(p.as) || lower(m) === lower(p.column)))
        issue(`"${p.column}" -> "${p.as}" involves a CDC metadata column`);
      derived.add(lower(p.as));
    });
  });

export type CdcTableSpecInput = z.input<typeof cdcTableSpecSchema>;
export type CdcTableSpec = Readonly<z.output<typeof cdcTableSpecSchema>>;

/** The curated table's business columns: the copied ones, then the pseudonyms, in spec order. */
export function tableColumns(spec: CdcTableSpec): string[] {
  return [...spec.columns, ...spec.pseudonymise.map((p) => p.as)];
}

/** Raw columns the batch must carry: the copied ones, then pseudonymised sources not copied. */
export function batchColumns(spec: CdcTableSpec): string[] {
  const out = [...spec.columns];
  const seen = new Set(out.map((c) => c.toLowerCase()));
  for (const p of spec.pseudonymise) {
    if (!seen.has(p.column.toLowerCase())) out.push(p.column);
    seen.add(p.column.toLowerCase());
  }
  return out;
}

/** Validates a spec and fills the DMS defaults; throws with every problem listed. */
export function parseTableSpec(input: CdcTableSpecInput): CdcTableSpec {
  const result = cdcTableSpecSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".") || "spec"}: ${i.message}`);
    throw new Error(`invalid CDC table spec: ${problems.join("; ")}`);
  }
  return result.data;
}

/** Full-load files are named LOAD + a hexadecimal counter (LOAD00000001 ... LOAD0000000A). */
export const FULL_LOAD_FILE = /(^|\/)LOAD[0-9A-F_]+\.parquet$/i;
