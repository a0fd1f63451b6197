/**
 * The registry of personal data as the subject-rights workers read it: every table whose rows are a
 * person's (found by a pseudonym column) and every bucket prefix holding personal data in files.
 *
 * The program collects it from the components that create the stores (components/privacy/
 * personal-data.ts) and deploys it as JSON (env var REGISTRY_JSON); this module is the one place that
 * JSON is parsed and checked. Names are checked strictly here because the workers put them into SQL
 * as identifiers (values always travel as query parameters, but a table or column name cannot), so a
 * name that is not a plain identifier must never reach a query.
 */
import { deflateRawSync, inflateRawSync } from "node:zlib";
import { z } from "zod";

/** A table holding data about a person, as the workers read it (all values plain, resolved at deploy time). */
export interface RegisteredTable {
  readonly cloud: "aws" | "gcp";
  /** aws: the Glue database; gcp: "<project>.<dataset>". */
  readonly dataset: string;
  readonly table: string;
  /**
   * Columns holding a subject's pseudonym (HMAC-SHA256 under the cell key, lower-case hex); a row is the
   * subject's when any of them matches. May be empty only when `textColumns` is not.
   */
  readonly subjectColumns: readonly string[];
  /**
   * Columns of text (JSON, messages) that may hold a subject's pseudonym anywhere inside: schemaless Kafka
   * payloads, the clickstream dead letters. A row is also the subject's when one of them contains one of
   * the pseudonyms as a substring. A pseudonym is 64 hex digits of an HMAC-SHA256: another text holds that
   * exact run of 64 characters by chance with probability about n * 16^-64 per row (n its length), so a
   * substring match is, for any practical purpose, a match on the subject. @default none
   */
  readonly textColumns?: readonly string[];
  /** The data class (policy/contract DATA_CLASSES). */
  readonly dataClass: string;
  /** What the table holds, for the audit record and the README. */
  readonly holds: string;
  /**
   * A TIMESTAMP column the table requires a filter on (BigQuery `requirePartitionFilter`: a query or DML
   * statement without a filter on it usable for partition elimination is refused). The workers add a
   * constant lower bound on it that every row meets. @default none
   */
  readonly partitionFilterColumn?: string;
}

/** A bucket prefix holding personal data in files, reached by expiry within the erasure bound (not by the workers). */
export interface RegisteredPrefix {
  readonly cloud: "aws" | "gcp";
  readonly bucket: string;
  readonly prefix: string;
  readonly dataClass: string;
  /** Days after which lifecycle expires an object there. */
  readonly expiresAfterDays: number;
  readonly holds: string;
}

export interface PersonalDataRegistry {
  readonly cell: string;
  readonly tables: readonly RegisteredTable[];
  readonly prefixes: readonly RegisteredPrefix[];
}

/** The Iceberg table (in the cell's curated Glue database) the CDC merge consults before re-inserting a subject. */
export const SUPPRESSION_TABLE = "subject_suppression";
/** The GCS object (in the cell's suppression bucket) the collector consults before publishing an event. */
export const SUPPRESSION_OBJECT = "suppression/pseudonyms.txt";
/** Days an access export stays readable before lifecycle deletes it. */
export const EXPORT_EXPIRY_DAYS = 7;

/**
 * A plain lower-case SQL identifier: what Glue allows for database, table and column names
 * ("lowercase letters, numbers, and the underscore character",
 * https://docs.aws.amazon.com/athena/latest/ug/tables-databases-columns-names.html), without a
 * leading digit so it needs no special casing in either engine.
 */
export const AWS_IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
/**
 * BigQuery: project ids are 6-30 of lower-case letters, digits and hyphens, starting with a letter
 * (https://cloud.google.com/resource-manager/docs/creating-managing-projects); dataset ids and
 * table names are letters, digits and underscores here (BigQuery allows more in table names, but
 * none of our tables use it, and the stricter rule keeps them safe inside backquotes).
 */
const GCP_DATASET = /^[a-z][a-z0-9-]{4,28}[a-z0-9]\.[A-Za-z0-9_]{1,1024}$/;
const GCP_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,1023}$/;

const cloud = z.enum(["aws", "gcp"]);
const text = z.string().trim().min(1);

const tableSchema = z
  .object({
    cloud,
    dataset: text,
    table: text,
    subjectColumns: z.array(text),
    textColumns: z.array(text).optional(),
    dataClass: text,
    holds: text,
    partitionFilterColumn: text.optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.subjectColumns.length + (t.textColumns?.length ?? 0) === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["subjectColumns"],
        message: "a table needs at least one subject column or text column",
      });
    }
    const name = t.cloud === "aws" ? AWS_IDENTIFIER : GCP_IDENTIFIER;
    const datasetRule = t.cloud === "aws" ? AWS_IDENTIFIER : GCP_DATASET;
    const expected =
      t.cloud === "aws"
        ? `a lower-case identifier matching ${String(AWS_IDENTIFIER)}`
        : "<project>.<dataset> (project id and dataset id)";
    if (!datasetRule.test(t.dataset)) {
      ctx.addIssue({ code: "custom", path: ["dataset"], message: `'${t.dataset}' is not ${expected}` });
    }
    const check = (value: string, path: (string | number)[]) => {
      if (!name.test(value)) {
        ctx.addIssue({ code: "custom", path, message: `'${value}' is not a plain identifier (${String(name)})` });
      }
    };
    check(t.table, ["table"]);
    t.subjectColumns.forEach((c, i) => check(c, ["subjectColumns", i]));
    t.textColumns?.forEach((c, i) => check(c, ["textColumns", i]));
    if (t.partitionFilterColumn !== undefined) check(t.partitionFilterColumn, ["partitionFilterColumn"]);
  });

const prefixSchema = z
  .object({
    cloud,
    bucket: text,
    prefix: z.string(),
    dataClass: text,
    expiresAfterDays: z.number().int().positive(),
    holds: text,
  })
  .strict();

const registrySchema = z
  .object({
    cell: text,
    tables: z.array(tableSchema),
    prefixes: z.array(prefixSchema),
  })
  .strict()
  .superRefine((r, ctx) => {
    const seen = new Set<string>();
    r.tables.forEach((t, i) => {
      const key = `${t.cloud}:${t.dataset}.${t.table}`;
      if (seen.has(key)) {
        ctx.addIssue({ code: "custom", path: ["tables", i], message: `${key} is registered twice` });
      }
      seen.add(key);
    });
  });

/**
 * The AWS worker's environment variable holding the registry: its JSON raw-deflated, base64. Lambda caps a
 * function's environment variables at 4 KB in all, a hard quota (Lambda developer guide, "Lambda quotas"),
 * and a cell's registry JSON outgrows that with a few sources (prod's `br` is about 4.6 KB); deflated it is
 * about a third. The GCP worker (Cloud Run, no such cap) keeps the plain JSON in REGISTRY_JSON. To read it:
 * `base64 -d | python3 -c 'import sys,zlib; print(zlib.decompress(sys.stdin.buffer.read(), -15).decode())'`.
 */
export const REGISTRY_DEFLATED_ENV = "REGISTRY_DEFLATED";

/** The registry JSON as the AWS worker's REGISTRY_DEFLATED (raw deflate, no header: the same bytes on any OS). */
export const deflateRegistry = (json: string): string =>
  deflateRawSync(Buffer.from(json, "utf8"), { level: 9 }).toString("base64");

/** The registry JSON back from REGISTRY_DEFLATED. */
export function inflateRegistry(value: string): string {
  try {
    return inflateRawSync(Buffer.from(value, "base64")).toString("utf8");
  } catch (e) {
    throw new Error(
      `personal-data registry: ${REGISTRY_DEFLATED_ENV} is not deflated base64 (${(e as Error).message})`,
    );
  }
}

/** Parses and checks the JSON the program deploys (the GCP worker's REGISTRY_JSON, the AWS worker's inflated REGISTRY_DEFLATED). */
export function parseRegistry(json: string): PersonalDataRegistry {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (e) {
    throw new Error(`personal-data registry: not JSON (${(e as Error).message})`);
  }
  const parsed = registrySchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new Error(`personal-data registry is invalid:\n  ${problems.join("\n  ")}`);
  }
  return parsed.data;
}

/** The text columns of a registered table (none when it declares none). */
export const textColumnsOf = (t: RegisteredTable): readonly string[] => t.textColumns ?? [];

/** The registered tables of one cloud. */
export function tablesOf(registry: PersonalDataRegistry, on: "aws" | "gcp"): readonly RegisteredTable[] {
  return registry.tables.filter((t) => t.cloud === on);
}
