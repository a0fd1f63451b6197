/**
 * The registry of a cell's personal data, collected from the program (issue 14, item 2): every component
 * that creates a table or a bucket prefix holding data about a person declares it here, with the columns
 * carrying the subject's pseudonym, so the data-subject request workers (functions/subject-rights) reach
 * exactly the stores the program made, and a store nobody declared fails test/privacy/registry.test.ts.
 *
 * A plain object, not a resource: it makes nothing. The cell makes one, hands it to its layers through
 * their args, and passes `json()` to the workers once every layer is built.
 */
import * as pulumi from "@pulumi/pulumi";
import type { PersonalDataRegistry, RegisteredPrefix, RegisteredTable } from "../../functions/subject-rights/registry";
import type { DataClass } from "../../policy/contract";

/**
 * The naming convention of pseudonym columns (`customer_pseudo_id`, `user_pseudo_id`): a column named so
 * holds the keyed HMAC of a subject identifier under the cell key. Sources that declare no `pseudonymise`
 * (NoSQL, Kafka, CSV, API, marts) carry a subject key only through such a column.
 */
export const PSEUDONYM_COLUMN = /^[a-z][a-z0-9_]*_pseudo_id$/;

/** The pseudonym columns among `columns`, by the naming convention. */
export const pseudonymColumns = (columns: readonly string[]): string[] =>
  columns.map((c) => c.toLowerCase()).filter((c) => PSEUDONYM_COLUMN.test(c));

/** A table a component declares: values may still be Outputs (names of resources it creates). */
export interface PersonalTable {
  readonly cloud: RegisteredTable["cloud"];
  /** aws: the Glue database; gcp: `<project>.<dataset>`. */
  readonly dataset: pulumi.Input<string>;
  readonly table: pulumi.Input<string>;
  /**
   * Columns holding the subject's pseudonym; a row is the subject's when any matches. Empty only when
   * `textColumns` names at least one column.
   */
  readonly subjectColumns: readonly string[];
  /**
   * Columns of free text (JSON, a failed message) that may carry a subject's pseudonym anywhere inside:
   * the workers match a row when one contains a pseudonym (`RegisteredTable.textColumns`). Names keep
   * their case (BigQuery's dead-letter columns are camelCase; Glue names are lower case already).
   * @default none
   */
  readonly textColumns?: readonly string[];
  readonly dataClass: DataClass;
  /** What the table holds about a person, in a sentence. */
  readonly holds: string;
  /** A TIMESTAMP column the table requires a filter on (`RegisteredTable.partitionFilterColumn`). @default none */
  readonly partitionFilterColumn?: string;
  /**
   * A stable, unique key of the declaring resource (its logical name): names the resources made per table
   * (the AWS worker's Lake Formation grants), which must not change when the table's name is computed.
   * @default none (such a table gets no per-table resource; `awsTables` refuses AWS tables without one)
   */
  readonly key?: string;
}

/** A bucket prefix a component declares: files reached by lifecycle expiry, not by the workers. */
export interface PersonalPrefix {
  readonly cloud: RegisteredPrefix["cloud"];
  readonly bucket: pulumi.Input<string>;
  /** Key prefix, ending in `/`. */
  readonly prefix: string;
  readonly dataClass: DataClass;
  /** Days after which the bucket's lifecycle expires an object there. */
  readonly expiresAfterDays: number;
  readonly holds: string;
}

/**
 * One cell's catalog. Its entries are ES private fields: components pass the catalog in their args, which
 * Pulumi records as component inputs, and private fields are not properties, so the registry is not
 * copied into every component's state (only `cell` is).
 */
export class PersonalDataCatalog {
  readonly #tables: PersonalTable[] = [];
  readonly #prefixes: PersonalPrefix[] = [];
  #sealed = false;

  /** @param cell the cell's name (`br`, `eu`): the registry of one cell, deployed to that cell's workers. */
  constructor(public readonly cell: string) {}

  /** Declares a table holding data about a person. */
  table(entry: PersonalTable): void {
    this.open(`table ${String(entry.table)}`);
    const columns = entry.subjectColumns.map((c) => c.toLowerCase());
    const text = [...new Set(entry.textColumns ?? [])];
    if (columns.length + text.length === 0)
      throw new Error(`personal table ${String(entry.table)}: needs a subject column or a text column`);
    const bad = [
      ...columns.filter((c) => !/^[a-z_][a-z0-9_]*$/.test(c)),
      ...text.filter((c) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(c)),
    ];
    if (bad.length > 0) throw new Error(`personal table ${String(entry.table)}: not column names: ${bad.join(", ")}`);
    this.#tables.push({ ...entry, subjectColumns: [...new Set(columns)], textColumns: text });
  }

  /** Declares a bucket prefix holding personal data in files. */
  prefix(entry: PersonalPrefix): void {
    this.open(`prefix ${entry.prefix}`);
    if (!entry.prefix.endsWith("/") || entry.prefix.startsWith("/"))
      throw new Error(`personal prefix '${entry.prefix}': a key prefix is relative and ends in '/'`);
    if (!Number.isInteger(entry.expiresAfterDays) || entry.expiresAfterDays < 1)
      throw new Error(`personal prefix '${entry.prefix}': expiresAfterDays must be a positive integer`);
    this.#prefixes.push(entry);
  }

  /**
   * The registry with every value resolved, sorted (stable JSON, so a worker's configuration changes only
   * when a store does). Reading it seals the catalog: a store declared afterwards would be missing from
   * what the workers already received, so that declaration throws instead.
   */
  resolved(): pulumi.Output<PersonalDataRegistry> {
    this.#sealed = true;
    const tables = pulumi.all(
      this.#tables.map((t) =>
        pulumi.all([t.dataset, t.table]).apply(([dataset, table]): RegisteredTable => ({
          cloud: t.cloud,
          dataset,
          table,
          subjectColumns: t.subjectColumns,
          // Only when there are any: the registry of a cell without text columns stays as it was.
          ...((t.textColumns ?? []).length > 0 ? { textColumns: t.textColumns } : {}),
          dataClass: t.dataClass,
          holds: t.holds,
          ...(t.partitionFilterColumn !== undefined ? { partitionFilterColumn: t.partitionFilterColumn } : {}),
        })),
      ),
    );
    const prefixes = pulumi.all(
      this.#prefixes.map((p) =>
        pulumi.output(p.bucket).apply((bucket): RegisteredPrefix => ({
          cloud: p.cloud,
          bucket,
          prefix: p.prefix,
          dataClass: p.dataClass,
          expiresAfterDays: p.expiresAfterDays,
          holds: p.holds,
        })),
      ),
    );
    return pulumi.all([tables, prefixes]).apply(([t, p]) => ({
      cell: this.cell,
      tables: sortedUnique(t, (x) => `${x.cloud}:${x.dataset}.${x.table}`),
      prefixes: sortedUnique(p, (x) => `${x.cloud}:${x.bucket}/${x.prefix}`),
    }));
  }

  /**
   * The AWS tables declared so far, by key: the tables the AWS worker is granted DELETE, INSERT and SELECT on.
   * Read at construction, like `resolved()`, so it seals the catalog too.
   */
  awsTables(): {
    readonly key: string;
    readonly database: pulumi.Input<string>;
    readonly table: pulumi.Input<string>;
  }[] {
    this.#sealed = true;
    return this.#tables
      .filter((t) => t.cloud === "aws")
      .map((t) => {
        if (t.key === undefined)
          throw new Error(`personal table ${String(t.table)} of cell ${this.cell}: an AWS table needs a key`);
        return { key: t.key, database: t.dataset, table: t.table };
      });
  }

  /** `resolved()` as JSON: the `REGISTRY_JSON` of the workers (`parseRegistry` reads it). */
  json(): pulumi.Output<string> {
    return this.resolved().apply((r) => JSON.stringify(r));
  }

  private open(what: string): void {
    if (this.#sealed)
      throw new Error(
        `personal data ${what} of cell ${this.cell} declared after the registry was read: build every layer before the workers`,
      );
  }
}

/** Sorted by key; the same store declared twice is a bug (two components claiming one table). */
function sortedUnique<T>(items: readonly T[], key: (x: T) => string): T[] {
  const seen = new Set<string>();
  for (const k of items.map(key)) {
    if (seen.has(k)) throw new Error(`personal data ${k} declared twice`);
    seen.add(k);
  }
  return [...items].sort((a, b) => key(a).localeCompare(key(b)));
}
