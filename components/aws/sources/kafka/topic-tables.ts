/**
 * The curated Iceberg table each topic lands in, from config: a typed table (the event's top-level JSON fields
 * as columns, optionally keyed for upserts) or a schemaless landing table that keeps the whole event as JSON
 * text with where it came from (functions/event-stream/landing-record.ts writes that shape). Pure and shared by
 * the component and config validation, so a table config would break is reported with its key first.
 */
import type { KafkaSource, KafkaTopicConfig } from "../../../config/schema";
import { glueName, parsePartition, type IcebergColumn, type PartitionField } from "../../ingestion/plan-rules";
import { topicConfig } from "./stream-sizing";

/** The landing table's columns (functions/event-stream/landing-record.ts `LANDING_FIELDS`). */
export const LANDING_COLUMNS: readonly IcebergColumn[] = [
  { id: 1, name: "payload", type: "string", required: false, doc: "the event as received: JSON text" },
  { id: 2, name: "kafka_partition", type: "int", required: false, doc: "Kafka partition of the event" },
  { id: 3, name: "kafka_offset", type: "long", required: false, doc: "Kafka offset of the event in its partition" },
  { id: 4, name: "arrived_at", type: "timestamptz", required: false, doc: "when the event reached the broker" },
];

export interface TopicTable {
  readonly topic: string;
  /** Glue table name in the cell's curated database. */
  readonly tableName: string;
  readonly columns: readonly IcebergColumn[];
  readonly partitions: readonly PartitionField[];
  /** Schemaless: the event is kept as JSON text (a Firehose record processor wraps it). */
  readonly landing: boolean;
  /** Upsert keys (Firehose `uniqueKeys`); empty: append only. */
  readonly uniqueKeys: readonly string[];
}

/** `<source>_<topic>` in Glue's alphabet, unless the topic names its table. */
export const topicTableName = (source: string, topic: KafkaTopicConfig): string =>
  topic.table ?? glueName(source, topic.name);

/** The table of one topic, and every problem its config has (empty when it is sound). */
export function deriveTopicTable(source: string, topic: KafkaTopicConfig): TopicTable & { problems: string[] } {
  const problems: string[] = [];
  const tableName = topicTableName(source, topic);
  const lower = (c: string) => c.toLowerCase();
  const keys = (topic.keys ?? []).map(lower);
  const landing = topic.columns === undefined;
  const columns: IcebergColumn[] = [];
  if (landing) {
    columns.push(...LANDING_COLUMNS);
    if (keys.length > 0) problems.push("keys need columns (a landing table has no columns to upsert on)");
  } else {
    for (const c of topic.columns ?? []) {
      if (columns.some((x) => x.name === lower(c.name))) problems.push(`column ${lower(c.name)} declared twice`);
      else
        columns.push({
          id: columns.length + 1,
          name: lower(c.name),
          type: c.type,
          required: keys.includes(lower(c.name)),
          doc: keys.includes(lower(c.name)) ? "unique key of the event" : "event field",
        });
    }
    for (const k of keys) if (!columns.some((c) => c.name === k)) problems.push(`key ${k} is not in columns`);
  }
  const specs = topic.partitionBy ?? (landing ? ["day(arrived_at)"] : []);
  const partitions = specs.flatMap((spec) => {
    try {
      const p = parsePartition(spec);
      if (!columns.some((c) => c.name === lower(p.column))) {
        problems.push(`partition source ${p.column} is not a column`);
        return [];
      }
      return [{ ...p, column: lower(p.column) }];
    } catch (e) {
      problems.push((e as Error).message);
      return [];
    }
  });
  return { topic: topic.name, tableName, columns, partitions, landing, uniqueKeys: keys, problems };
}

/** The tables of a source's topics; throws on a config problem (validation reports them first, with keys). */
export function topicTables(source: Pick<KafkaSource, "name" | "topics">): TopicTable[] {
  return source.topics.map((t, i) => {
    const { problems, ...table } = deriveTopicTable(source.name, topicConfig(t));
    if (problems.length > 0) throw new Error(`kafka source ${source.name} topics[${i}]: ${problems.join("; ")}`);
    return table;
  });
}
