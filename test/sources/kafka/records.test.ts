/**
 * What reaches the tables: the landing-record processor (run for real on Firehose-shaped MSK events, its rows
 * read back by DuckDB as the landing table's types), and the MSK Connect sink configuration (credentials only
 * as config-provider references, TLS always, upserts on the keys), checked by the pack's own secret scanner.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { expect } from "chai";
import { brokerPorts, connectorConfiguration } from "../../../components/aws/sources/kafka/connect-delivery";
import { errorPrefix, kafkaResourceArn } from "../../../components/aws/sources/kafka/firehose-delivery";
import { deriveTopicTable, LANDING_COLUMNS } from "../../../components/aws/sources/kafka/topic-tables";
import { handler, LANDING_FIELDS, landingRecord } from "../../../functions/event-stream/landing-record";
import { plainConnectSecrets } from "../../../policy/rules/encryption";

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
const unb64 = (s: string) => Buffer.from(s, "base64").toString("utf8");

describe("event streams: records and sink configuration", () => {
  it("the processor's row fields are the landing table's columns, in order", () => {
    expect([...LANDING_FIELDS]).to.deep.equal(LANDING_COLUMNS.map((c) => c.name));
  });

  it("wraps each event as a landing row and fails (never drops) what is not JSON", async () => {
    const event = {
      invocationId: "i",
      records: [
        {
          recordId: "r1",
          kafkaRecordValue: b64(JSON.stringify({ event: "add_to_cart", sku: "A-1", nested: { q: 2 } })),
          mskRecordMetadata: {
            partitionId: "7",
            offset: "123456789012",
            approximateArrivalTimestamp: 1_764_800_000_000,
          },
        },
        { recordId: "r2", kafkaRecordValue: b64("not json {"), approximateArrivalTimestamp: 1_764_800_000_500 },
        { recordId: "r3", kafkaRecordValue: b64('"just a string"') },
      ],
    };
    const { records } = await handler(event);
    expect(records.map((r) => [r.recordId, r.result])).to.deep.equal([
      ["r1", "Ok"],
      ["r2", "ProcessingFailed"],
      ["r3", "Ok"],
    ]);
    // The failed record goes back untouched: Firehose writes it under the topic's error prefix as received.
    expect(records[1].kafkaRecordValue).to.equal(event.records[1].kafkaRecordValue);
    expect(JSON.parse(unb64(records[0].kafkaRecordValue))).to.deep.equal({
      payload: '{"event":"add_to_cart","sku":"A-1","nested":{"q":2}}',
      kafka_partition: 7,
      kafka_offset: 123456789012,
      arrived_at: "2025-12-03T22:13:20.000Z",
    });
    expect(JSON.parse(unb64(records[2].kafkaRecordValue))).to.include({ kafka_partition: null, arrived_at: null });
  });

  it("DuckDB reads the rows with the landing table's types, and the payload's JSON back", async () => {
    const rows = [0, 1, 2].map((i) =>
      unb64(
        landingRecord({
          recordId: String(i),
          kafkaRecordValue: b64(JSON.stringify({ i, user_pseudo_id: `u${i}` })),
          mskRecordMetadata: {
            partitionId: i,
            offset: 10 + i,
            approximateArrivalTimestamp: 1_764_800_000_000 + i * 1000,
          },
        }).kafkaRecordValue,
      ),
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "landing-"));
    const file = path.join(dir, "rows.json");
    fs.writeFileSync(file, rows.join("\n"));
    const db = await DuckDBInstance.create(":memory:");
    const c = await db.connect();
    try {
      const types: Record<string, string> = {
        string: "VARCHAR",
        int: "INTEGER",
        long: "BIGINT",
        timestamptz: "TIMESTAMP WITH TIME ZONE",
      };
      const columns = Object.fromEntries(LANDING_COLUMNS.map((col) => [col.name, types[col.type]]));
      const reader = await c.runAndReadAll(
        `SELECT kafka_partition, kafka_offset, arrived_at::VARCHAR AS arrived, json_extract_string(payload, '$.user_pseudo_id') AS who
         FROM read_json('${file}', format = 'newline_delimited', columns = ${JSON.stringify(columns).replace(/"/g, "'")}) ORDER BY kafka_offset`,
      );
      expect(reader.getRowObjectsJson()).to.deep.equal([
        { kafka_partition: 0, kafka_offset: "10", arrived: "2025-12-03 22:13:20+00", who: "u0" },
        { kafka_partition: 1, kafka_offset: "11", arrived: "2025-12-03 22:13:21+00", who: "u1" },
        { kafka_partition: 2, kafka_offset: "12", arrived: "2025-12-03 22:13:22+00", who: "u2" },
      ]);
    } finally {
      c.closeSync();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  const base = {
    database: "lakehouse_dev_br_curated",
    warehouse: "s3://wh/curated/partner-events/",
    region: "sa-east-1",
    lakeKeyArn: "arn:aws:kms:sa-east-1:111111111111:key/k",
    secretArn: "arn:aws:secretsmanager:sa-east-1:111111111111:secret:lakehouse-dev-br-partner-events/kafka-abc",
    landingBucket: "landing",
  };
  const typed = {
    ...deriveTopicTable("partner-events", {
      name: "shipment-status",
      columns: [
        { name: "shipment_id", type: "string" },
        { name: "status", type: "string" },
      ],
      keys: ["shipment_id"],
    }),
  };
  const landing = { ...deriveTopicTable("partner-events", { name: "partner-clicks" }) };

  it("the sink upserts keyed topics and wraps schemaless ones; SASL/SCRAM credentials only as provider references", () => {
    const keyed = connectorConfiguration({
      ...base,
      topic: typed,
      source: { name: "partner-events", auth: { type: "sasl-scram", credentials: "c" } },
    });
    expect(keyed).to.include({
      "connector.class": "org.apache.iceberg.connect.IcebergSinkConnector",
      topics: "shipment-status",
      "iceberg.tables": "lakehouse_dev_br_curated.partner_events_shipment_status",
      "iceberg.tables.upsert-mode-enabled": "true",
      "iceberg.tables.default-id-columns": "shipment_id",
      "iceberg.tables.auto-create-enabled": "false",
      "iceberg.catalog.s3.sse.type": "kms",
      "consumer.override.security.protocol": "SASL_SSL",
      "consumer.override.sasl.mechanism": "SCRAM-SHA-512",
      "errors.tolerance": "none",
      "errors.log.include.messages": "false",
    });
    expect(keyed["consumer.override.sasl.jaas.config"]).to.equal(
      `org.apache.kafka.common.security.scram.ScramLoginModule required username="\${secretsmanager:${base.secretArn}:username}" password="\${secretsmanager:${base.secretArn}:password}";`,
    );
    expect(plainConnectSecrets(keyed)).to.deep.equal([]);
    const wrapped = connectorConfiguration({
      ...base,
      topic: landing,
      source: { name: "partner-events", auth: { type: "mtls", credentials: "c" } },
    });
    expect(wrapped).to.include({
      "value.converter": "org.apache.kafka.connect.storage.StringConverter",
      "transforms.wrap.field": "payload",
      "transforms.meta.offset.field": "kafka_offset",
      "consumer.override.security.protocol": "SSL",
      "consumer.override.ssl.keystore.location":
        "${s3import:sa-east-1:landing/_system/kafka/partner-events/client.p12}",
    });
    expect(wrapped).not.to.have.property("iceberg.tables.upsert-mode-enabled");
    expect(plainConnectSecrets(wrapped)).to.deep.equal([]);
  });

  it("the pack's scanner catches a literal credential, even one of two in a JAAS line", () => {
    expect(
      plainConnectSecrets({
        "consumer.override.sasl.jaas.config": 'x required username="${secretsmanager:a:username}" password="hunter2";',
        "consumer.override.ssl.keystore.password": "changeit",
        "consumer.override.ssl.truststore.password": "${secretsmanager:a:tp}",
        "iceberg.catalog.s3.sse.key": "arn:aws:kms:sa-east-1:1:key/k",
        "config.providers.secretsmanager.class": "com.amazonaws.kafka.config.providers.SecretsManagerConfigProvider",
      }),
    ).to.deep.equal(["consumer.override.sasl.jaas.config", "consumer.override.ssl.keystore.password"]);
  });

  it("names: topic and group ARNs from the cluster's, error prefixes per topic, broker ports from the servers", () => {
    const cluster = "arn:aws:kafka:sa-east-1:222222222222:cluster/lakehouse-prod-br-web-events-br/5f0c-3";
    expect(kafkaResourceArn(cluster, "topic", "cart-events")).to.equal(
      "arn:aws:kafka:sa-east-1:222222222222:topic/lakehouse-prod-br-web-events-br/5f0c-3/cart-events",
    );
    expect(kafkaResourceArn(cluster, "group", "*")).to.equal(
      "arn:aws:kafka:sa-east-1:222222222222:group/lakehouse-prod-br-web-events-br/5f0c-3/*",
    );
    expect(errorPrefix("web-events-br", "cart-events")).to.equal("kafka/web-events-br/cart-events/errors/");
    expect(brokerPorts(["a:9096", "b.x:9096", "c:9094"])).to.deep.equal([9094, 9096]);
  });
});
