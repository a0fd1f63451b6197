/**
 * Firehose record processor of schemaless topics: each Kafka event becomes one row of its landing table
 * (components/aws/sources/kafka/topic-tables.ts `LANDING_COLUMNS`): the event's JSON text as `payload`, with
 * the Kafka partition and offset and the broker's arrival time. Firehose maps a record's top-level JSON fields
 * to the table's columns ("Considerations and limitations", Firehose developer guide), so wrapping is what lets
 * an event of any shape land without a declared schema.
 *
 * An event that is not JSON is returned as `ProcessingFailed`: Firehose writes it under the topic's error
 * prefix of the raw bucket, where the runbook finds it; nothing is dropped.
 *
 * The event and result shapes are Firehose's for an MSK source ("Required parameters for data transformation",
 * Firehose developer guide: `recordId`, `result`, `kafkaRecordValue` base64).
 */

/** The landing table's columns, in order (kept equal to `LANDING_COLUMNS` by test/sources/kafka/landing-record.test.ts). */
export const LANDING_FIELDS = ["payload", "kafka_partition", "kafka_offset", "arrived_at"] as const;

export interface MskFirehoseRecord {
  readonly recordId: string;
  /** The Kafka record's value, base64. */
  readonly kafkaRecordValue: string;
  /** Milliseconds since the epoch. */
  readonly approximateArrivalTimestamp?: number;
  readonly mskRecordMetadata?: {
    readonly offset?: string | number;
    readonly partitionId?: string | number;
    readonly approximateArrivalTimestamp?: number;
  };
}

export interface MskFirehoseEvent {
  readonly invocationId?: string;
  readonly records: readonly MskFirehoseRecord[];
}

export interface ProcessedRecord {
  readonly recordId: string;
  readonly result: "Ok" | "ProcessingFailed";
  readonly kafkaRecordValue: string;
}

const toInt = (v: string | number | undefined): number | null => {
  if (v === undefined) return null;
  const n = typeof v === "number" ? v : Number(v);
  return Number.isSafeInteger(n) ? n : null;
};

/** One event to its landing row (or the untouched record, failed, when its value is not JSON). */
export function landingRecord(r: MskFirehoseRecord): ProcessedRecord {
  const text = Buffer.from(r.kafkaRecordValue, "base64").toString("utf8");
  try {
    JSON.parse(text);
  } catch {
    return { recordId: r.recordId, result: "ProcessingFailed", kafkaRecordValue: r.kafkaRecordValue };
  }
  const arrived = r.mskRecordMetadata?.approximateArrivalTimestamp ?? r.approximateArrivalTimestamp;
  const row = {
    payload: text,
    kafka_partition: toInt(r.mskRecordMetadata?.partitionId),
    kafka_offset: toInt(r.mskRecordMetadata?.offset),
    arrived_at: arrived === undefined ? null : new Date(arrived).toISOString(),
  };
  return {
    recordId: r.recordId,
    result: "Ok",
    kafkaRecordValue: Buffer.from(JSON.stringify(row), "utf8").toString("base64"),
  };
}

export async function handler(event: MskFirehoseEvent): Promise<{ records: ProcessedRecord[] }> {
  return { records: event.records.map(landingRecord) };
}
