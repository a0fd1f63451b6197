/**
 * `lakehouse:sources.kafka` validation: every problem reported at once, each with its key, in an error naming
 * the stack file: what each mode needs, the topics' tables, and the documented limits the scale exceeds.
 */
import { expect } from "chai";
import { parseStackConfig, StackConfigError } from "../../../components/config";
import { readStackConfig } from "../../../tools/plan/stack-config";

type Raw = Record<string, string>;
const prodRaw = (): Raw => ({ ...readStackConfig("prod").config });

/** The prod config with `lakehouse:sources.kafka` replaced. */
function withKafka(kafka: unknown[], raw: Raw = prodRaw()): Raw {
  const sources = JSON.parse(raw["lakehouse:sources"]) as Record<string, unknown>;
  return { ...raw, "lakehouse:sources": JSON.stringify({ ...sources, kafka }) };
}

function rejected(raw: Raw): { problems: readonly string[]; message: string } {
  try {
    parseStackConfig(raw, "Pulumi.prod.yaml");
  } catch (e) {
    expect(e).to.be.instanceOf(StackConfigError);
    return { problems: (e as StackConfigError).problems, message: (e as Error).message };
  }
  throw new Error("expected the config to be rejected");
}
const kafkaOnly = (p: readonly string[]) => p.filter((x) => x.startsWith("lakehouse:sources.kafka"));

const K = "lakehouse:sources.kafka";

describe("kafka source config", () => {
  it("accepts the committed stacks: prod's provisioned clusters and dev's existing Kafka", () => {
    const prod = parseStackConfig(readStackConfig("prod").config, "Pulumi.prod.yaml");
    expect(prod.sources.kafka.map((k) => [k.name, k.mode, k.topics.length])).to.deep.equal([
      ["web-events-br", "msk-provisioned", 3],
      ["web-events-eu", "msk-provisioned", 3],
    ]);
    const dev = parseStackConfig(readStackConfig("dev").config, "Pulumi.dev.yaml");
    expect(dev.sources.kafka.map((k) => [k.name, k.mode, k.auth?.type, k.networkReady])).to.deep.equal([
      ["partner-events", "existing", "sasl-scram", false],
    ]);
  });

  it("documented defaults: mode msk-provisioned, networkReady false, a bare topic name", () => {
    const parsed = parseStackConfig(
      withKafka([{ name: "ev", cell: "br", topics: [{ name: "t", eventsPerDay: 1000 }] }]),
      "x",
    );
    expect(parsed.sources.kafka[0]).to.deep.include({ mode: "msk-provisioned", networkReady: false });
  });

  it("reports every problem together, each with its key, in an error that names the stack file", () => {
    const { problems, message } = rejected(
      withKafka([
        // existing without its connection; brokers are for new clusters
        {
          name: "ext",
          cell: "br",
          mode: "existing",
          brokers: { count: 3 },
          topics: [{ name: "a", partitions: 6, eventsPerDay: 1000 }],
        },
        // a new cluster given a connection; keys without columns; a key not in columns; a topic twice
        {
          name: "new",
          cell: "br",
          bootstrapServers: ["k:9096"],
          topics: [
            { name: "x", keys: ["id"], eventsPerDay: 1000 },
            { name: "y", columns: [{ name: "a", type: "string" }], keys: ["id"], eventsPerDay: 1000 },
            { name: "y", columns: [{ name: "a", type: "string" }], partitionBy: ["day(ts)"], eventsPerDay: 1000 },
          ],
        },
        // credentials that do not exist
        {
          name: "ext2",
          cell: "eu",
          mode: "existing",
          bootstrapServers: ["k:9096"],
          auth: { type: "sasl-scram", credentials: "nope" },
          topics: ["z"],
        },
      ]),
    );
    expect(message).to.match(/^Invalid stack config in Pulumi\.prod\.yaml/);
    expect(kafkaOnly(problems)).to.deep.equal([
      `${K}[0].bootstrapServers: is required with mode 'existing'`,
      `${K}[0].auth: is required with mode 'existing' ({ type: sasl-scram | mtls, credentials: <name> })`,
      `${K}[0].brokers: only for a new cluster (mode 'msk-provisioned')`,
      `${K}[0].topics[0].partitions: only for a new cluster (an existing topic keeps its partitions)`,
      `${K}[1].bootstrapServers: only with mode 'existing'`,
      `${K}[1].topics[0]: keys need columns (a landing table has no columns to upsert on)`,
      `${K}[1].topics[1]: key id is not in columns`,
      `${K}[1].topics[2]: topic 'y' is listed twice (also topics[1])`,
      `${K}[1].topics[2]: partition source ts is not a column`,
      `${K}[1].topics[2].table: 'new_y' is also the table of topics[1]`,
      `${K}[2].auth.credentials: no entry 'nope' in lakehouse:sourceCredentials (pulumi config set --secret --path 'lakehouse:sourceCredentials.nope.password' <password>)`,
      // 'z' declares no volume, so it carries the eu cell's whole clickstream: more than one connector sinks.
      `${K}[2].topics: 94.8 MB/s at peak needs 24 MSK Connect workers, above 10 per connector; split the topics over several sources`,
    ]);
  });

  it("the limits the scale exceeds are config errors naming the fix: Serverless in sa-east-1, a keyed topic above São Paulo's 1 MiB/s", () => {
    const keyed = { name: "bal", columns: [{ name: "id", type: "string" }], keys: ["id"], eventsPerDay: 50_000_000 };
    const { problems } = rejected(
      withKafka([
        { name: "sl", cell: "br", mode: "msk-serverless", topics: [{ name: "t", eventsPerDay: 1000 }] },
        { name: "kb", cell: "br", topics: [keyed] },
        // The same topic in Ireland fits its 5 MiB/s.
        { name: "ke", cell: "eu", topics: [keyed] },
      ]),
    );
    expect(kafkaOnly(problems)).to.deep.equal([
      `${K}[0].mode: MSK Serverless is not offered in sa-east-1; use 'msk-provisioned'`,
      `${K}[1].topics[0].keys: 'bal' peaks at 2.3 MiB/s, above the 1 MiB/s a Firehose stream that updates Iceberg rows is planned at in sa-east-1; drop keys (append only, deduplicate downstream) or split the topic`,
    ]);
  });

  it("at 100x the prod scale the broker limits are reported per source and per cell", () => {
    const raw = prodRaw();
    const scale = JSON.parse(raw["lakehouse:scale"]) as Record<string, number>;
    const { problems } = rejected({
      ...raw,
      "lakehouse:scale": JSON.stringify({ ...scale, clickstreamEventsPerDay: scale.clickstreamEventsPerDay * 100 }),
    });
    const kafka = kafkaOnly(problems);
    expect(
      kafka.filter((p) => p.includes("per MSK cluster")).map((p) => p.slice(0, p.indexOf(":", K.length + 1))),
    ).to.deep.equal([`${K}[0].brokers`, `${K}[1].brokers`]);
  });

  it("schema errors keep their keys: a bad mode, a topic name Kafka refuses, a t3 broker type", () => {
    const { problems } = rejected(
      withKafka([
        { name: "a", cell: "br", mode: "kinesis", topics: ["bad topic"], brokers: { instanceType: "kafka.t3.small" } },
      ]),
    );
    expect(kafkaOnly(problems).map((p) => p.slice(0, p.indexOf(":", K.length + 1)))).to.deep.equal([
      `${K}[0].mode`,
      `${K}[0].topics[0]`,
      `${K}[0].brokers.instanceType`,
    ]);
  });
});
