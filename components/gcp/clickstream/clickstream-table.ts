/**
 * The clickstream landing table `clickstream_raw.events` (a contract with the marts engineer) and its
 * dead-letter table, plus the policy-tag taxonomy that restricts every column that can still single out
 * a person: pseudonymous ids are personal data (GDPR Recital 26, LGPD Art. 13 §4), and so are a
 * truncated IP and a user agent when combined with them.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { classification, daysToMs } from "../../conventions";
import type { PersonalDataCatalog } from "../../privacy/personal-data";

/** The policy tags of a cell's clickstream taxonomy: one per kind of identifying column. */
export const IDENTIFYING_TAGS = {
  "pseudonymous-id": "Keyed-HMAC pseudonyms of users, visitors and groups (re-identifiable with the cell key)",
  "network-address": "Truncated IP addresses (/24, /48): coarse location, linkable to a pseudonym",
  "quasi-identifier": "User agents, device context and traits: fingerprinting material",
} as const;
export type IdentifyingTag = keyof typeof IDENTIFYING_TAGS;

/** The identifying columns of the UDF's row and their tag; every other column is untagged. */
export const COLUMN_TAGS: Readonly<Record<string, IdentifyingTag>> = {
  user_pseudo_id: "pseudonymous-id",
  anonymous_pseudo_id: "pseudonymous-id",
  group_pseudo_id: "pseudonymous-id",
  previous_pseudo_id: "pseudonymous-id",
  ip_truncated: "network-address",
  user_agent: "quasi-identifier",
  // Scrubbed by the collector, but still device ids (hashed), locale, screen, OS: fingerprinting material.
  context: "quasi-identifier",
  traits: "quasi-identifier",
};

interface Column {
  readonly name: string;
  readonly type: string;
  readonly mode: string;
  readonly description?: string;
  readonly fields?: readonly Column[];
  /** The identifying kind of the column, if any: it gets the matching policy tag. */
  readonly tag?: IdentifyingTag;
}

/** The row shape the Dataflow UDF emits: its own schema file, the single source of truth. */
export const UDF_SCHEMA_FILE = path.join(
  __dirname,
  "..",
  "..",
  "..",
  "functions",
  "dataflow-udf",
  "clickstream_table_schema.json",
);

/** The events table columns: the UDF's schema with policy tags on the identifying columns. */
export function eventColumns(schemaFile: string = UDF_SCHEMA_FILE): Column[] {
  const columns = JSON.parse(readFileSync(schemaFile, "utf8")) as Column[];
  return columns.map((c) => (COLUMN_TAGS[c.name] === undefined ? c : { ...c, tag: COLUMN_TAGS[c.name] }));
}

/**
 * Clustering: the visitor's pseudonyms first (per-visitor reads: features, sessions, erasure deletes),
 * then the event type (the UDF README's pair, widened to anonymous visitors, most of the traffic).
 */
export const EVENT_CLUSTERING = ["user_pseudo_id", "anonymous_pseudo_id", "event_type"] as const;
/**
 * The columns of an event that carry a person's key, as the data-subject request workers match them:
 * the user's pseudonym, the visitor's (a cookie or device id is an online identifier of a person: GDPR
 * Recital 30), and the previous id an alias event links (the same person's earlier user or visitor id).
 * Not `group_pseudo_id`: a group is an account or organisation, not a person, and erasing a person must
 * not delete every event of their colleagues; their own events in it carry their user or visitor pseudonym.
 */
export const EVENT_SUBJECT_COLUMNS = ["user_pseudo_id", "anonymous_pseudo_id", "previous_pseudo_id"] as const;
/** The column the table is partitioned (and expired) by. */
export const EVENT_TIME_COLUMN = "event_timestamp";
/** The table name other teams read: a contract (marts, erasure workers). */
export const EVENTS_TABLE_ID = "events";

/**
 * The dead-letter table shape of Google's Pub/Sub to BigQuery template (it would create it with this
 * schema; creating it ourselves adds CMEK, expiry and a policy tag on the raw payload).
 */
const DEADLETTER_COLUMNS: readonly Column[] = [
  { name: "timestamp", type: "TIMESTAMP", mode: "REQUIRED", description: "When the failure happened" },
  {
    name: "payloadString",
    type: "STRING",
    mode: "NULLABLE",
    description: "The message as text",
    tag: "pseudonymous-id",
  },
  { name: "payloadBytes", type: "BYTES", mode: "NULLABLE", description: "The message bytes", tag: "pseudonymous-id" },
  {
    name: "attributes",
    type: "RECORD",
    mode: "REPEATED",
    description: "Pub/Sub attributes (messageId, type, consent)",
    fields: [
      { name: "key", type: "STRING", mode: "NULLABLE" },
      { name: "value", type: "STRING", mode: "NULLABLE" },
    ],
  },
  { name: "errorMessage", type: "STRING", mode: "NULLABLE", description: "Why it failed" },
  { name: "stacktrace", type: "STRING", mode: "NULLABLE", description: "Where it failed" },
];

export interface ClickstreamTableArgs {
  /** The cell's GCP project. */
  readonly project: string;
  /** The cell's GCP region: the policy-tag taxonomy lives there, with the dataset. */
  readonly region: string;
  /** Dataset id of `clickstream_raw`. */
  readonly datasetId: pulumi.Input<string>;
  /** Cloud KMS key for BigQuery (keyRing.keys.bigquery.id). */
  readonly kmsKeyName: pulumi.Input<string>;
  /** Clickstream retention in days: partitions older than this are deleted. */
  readonly retentionDays: number;
  /** BigQuery deletion protection (and Data Catalog taxonomy kept on destroy). */
  readonly protect: boolean;
  /** Resource-name prefix for the taxonomy display name. */
  readonly resourcePrefix: string;
  /**
   * The cell's registry of personal data, where this component declares what it stores about a person
   * (components/privacy/personal-data.ts). @default not declared
   */
  readonly personalData?: PersonalDataCatalog;
}

export class ClickstreamTable extends pulumi.ComponentResource {
  public readonly taxonomy: gcp.datacatalog.Taxonomy;
  public readonly policyTags: Readonly<Record<IdentifyingTag, gcp.datacatalog.PolicyTag>>;
  public readonly table: gcp.bigquery.Table;
  public readonly deadletterTable: gcp.bigquery.Table;
  /** `project.dataset.events`, for SQL. */
  public readonly tableRef: pulumi.Output<string>;
  /** `project:dataset.events`, the Dataflow template's outputTableSpec form. */
  public readonly tableSpec: pulumi.Output<string>;
  public readonly deadletterTableSpec: pulumi.Output<string>;

  constructor(name: string, args: ClickstreamTableArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:gcp:ClickstreamTable", name, args, opts);
    this.taxonomy = new gcp.datacatalog.Taxonomy(
      `${name}-taxonomy`,
      {
        project: args.project,
        region: args.region,
        displayName: `${args.resourcePrefix} clickstream identifiers`,
        description:
          "Columns that can single out a person in the clickstream; read only with a fine-grained reader grant",
        activatedPolicyTypes: ["FINE_GRAINED_ACCESS_CONTROL"],
      },
      { parent: this },
    );
    const tags = {} as Record<IdentifyingTag, gcp.datacatalog.PolicyTag>;
    for (const [tag, description] of Object.entries(IDENTIFYING_TAGS) as [IdentifyingTag, string][]) {
      tags[tag] = new gcp.datacatalog.PolicyTag(
        `${name}-${tag}`,
        { taxonomy: this.taxonomy.id, displayName: tag, description },
        { parent: this },
      );
    }
    this.policyTags = tags;

    const schemaOf = (columns: readonly Column[]) =>
      pulumi
        .all(
          Object.fromEntries(Object.entries(tags).map(([k, t]) => [k, t.name])) as Record<
            IdentifyingTag,
            pulumi.Output<string>
          >,
        )
        .apply((names) =>
          JSON.stringify(
            columns.map((c) => ({
              name: c.name,
              type: c.type,
              mode: c.mode,
              ...(c.description === undefined ? {} : { description: c.description }),
              ...(c.fields === undefined ? {} : { fields: c.fields }),
              ...(c.tag === undefined ? {} : { policyTags: { names: [names[c.tag]] } }),
            })),
          ),
        );
    const expirationMs = daysToMs(args.retentionDays);
    const common = {
      project: args.project,
      datasetId: args.datasetId,
      encryptionConfiguration: { kmsKeyName: args.kmsKeyName },
      deletionProtection: args.protect,
      labels: classification("clickstream"),
    };

    this.table = new gcp.bigquery.Table(
      name,
      {
        ...common,
        tableId: EVENTS_TABLE_ID,
        description: "Pseudonymised website and app events, one row per accepted collector message",
        schema: schemaOf(eventColumns()),
        // Partition expiry is the retention (storage limitation, GDPR Art. 5(1)(e)); deleting whole
        // partitions is also how expired data leaves without DML.
        timePartitioning: { type: "DAY", field: EVENT_TIME_COLUMN, expirationMs },
        // Every query names a time window: no accidental full scans of months of events.
        requirePartitionFilter: true,
        clusterings: [...EVENT_CLUSTERING],
      },
      { parent: this },
    );
    this.deadletterTable = new gcp.bigquery.Table(
      `${name}-deadletter`,
      {
        ...common,
        tableId: `${EVENTS_TABLE_ID}_deadletter`,
        description: "Messages the Dataflow pipeline could not turn into rows (UDF or insert failures)",
        schema: schemaOf(DEADLETTER_COLUMNS),
        timePartitioning: { type: "DAY", field: "timestamp", expirationMs },
      },
      { parent: this },
    );
    this.tableRef = pulumi.interpolate`${args.project}.${this.table.datasetId}.${this.table.tableId}`;
    this.tableSpec = pulumi.interpolate`${args.project}:${this.table.datasetId}.${this.table.tableId}`;
    this.deadletterTableSpec = pulumi.interpolate`${args.project}:${this.deadletterTable.datasetId}.${this.deadletterTable.tableId}`;
    args.personalData?.table({
      cloud: "gcp",
      dataset: pulumi.interpolate`${args.project}.${this.table.datasetId}`,
      table: this.table.tableId,
      subjectColumns: [...EVENT_SUBJECT_COLUMNS],
      // The table requires a partition filter (above): the workers' statements carry one.
      partitionFilterColumn: EVENT_TIME_COLUMN,
      dataClass: "clickstream",
      holds: "Website and app events of users and visitors, by pseudonym: pages, actions, truncated IP, user agent",
    });
    // The dead letters are the collector's messages as text (or the UDF's row, for a BigQuery insert failure):
    // the collector pseudonymised them before publishing (functions/collector/event.ts), so a subject appears
    // inside as the same pseudonyms; the workers match them by substring (RegisteredTable.textColumns).
    // errorMessage too: an insert error can quote a value of the row.
    args.personalData?.table({
      cloud: "gcp",
      dataset: pulumi.interpolate`${args.project}.${this.deadletterTable.datasetId}`,
      table: this.deadletterTable.tableId,
      subjectColumns: [],
      textColumns: ["payloadString", "payloadBytes", "errorMessage"],
      dataClass: "clickstream",
      holds: "Collector messages the pipeline could not load, as text: a user's or visitor's pseudonymised events",
    });
    this.registerOutputs({ table: this.tableSpec, deadletterTable: this.deadletterTableSpec });
  }
}
