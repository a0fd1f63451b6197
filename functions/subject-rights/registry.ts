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
import { z } from "zod";

/** A table holding data about a person, as the workers read it (all values plain, resolved at deploy time). */
export interface RegisteredTable {
  readonly cloud: "aws" | "gcp";
  /** aws: the Glue database; gcp: "<project>.<dataset>". */
  readonly dataset: string;
  readonly table: string;
  /** Columns holding a subject's pseudonym (HMAC-SHA256 under the cell key, lower-case hex); a row is the subject's when any of them matches. */
  readonly subjectColumns: readonly string[];
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
    subjectColumns: z.array(text).min(1, "a table needs at least one subject column"),
    dataClass: text,
    holds: text,
    partitionFilterColumn: text.optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
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

/** Parses and checks the JSON the program deploys (env var REGISTRY_JSON / the GCP worker's env). */
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

/** The registered tables of one cloud. */
export function tablesOf(registry: PersonalDataRegistry, on: "aws" | "gcp"): readonly RegisteredTable[] {
  return registry.tables.filter((t) => t.cloud === on);
}
