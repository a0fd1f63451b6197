/**
 * Cross-field checks of `lakehouse:sources.kafka`, run by config validation (components/config/validate.ts)
 * on the raw config so that every problem is reported at once with its key: what each mode needs, the tables
 * the topics become, and every documented limit the configured scale exceeds (./stream-sizing.ts).
 */
import { NAMESPACE } from "../../../config/namespace";
import { kafkaSourceSchema, scaleSchema, type KafkaSource } from "../../../config/schema";
import { cellStreamProblems, sharingTopics, sizeStream, topicConfig, type StreamSizing } from "./stream-sizing";
import { deriveTopicTable } from "./topic-tables";

type Raw = Record<string, unknown>;
const isObj = (v: unknown): v is Raw => typeof v === "object" && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Problems of one parsed source that the schema alone cannot see. */
export function kafkaSourceProblems(source: KafkaSource, at: string, credentials: Raw): string[] {
  const problems: string[] = [];
  if (source.mode === "existing") {
    if (!source.bootstrapServers) problems.push(`${at}.bootstrapServers: is required with mode 'existing'`);
    if (!source.auth)
      problems.push(`${at}.auth: is required with mode 'existing' ({ type: sasl-scram | mtls, credentials: <name> })`);
    else if (!Object.hasOwn(credentials, source.auth.credentials))
      problems.push(
        `${at}.auth.credentials: no entry '${source.auth.credentials}' in ${NAMESPACE}:sourceCredentials ` +
          `(pulumi config set --secret --path '${NAMESPACE}:sourceCredentials.${source.auth.credentials}.password' <password>)`,
      );
    if (source.auth?.type === "mtls" && source.auth.mechanism)
      problems.push(`${at}.auth.mechanism: only with type 'sasl-scram'`);
    if (source.brokers) problems.push(`${at}.brokers: only for a new cluster (mode 'msk-provisioned')`);
    source.topics.forEach((t, i) => {
      if (topicConfig(t).partitions !== undefined)
        problems.push(`${at}.topics[${i}].partitions: only for a new cluster (an existing topic keeps its partitions)`);
    });
  } else {
    for (const key of ["bootstrapServers", "auth"] as const)
      if (source[key] !== undefined) problems.push(`${at}.${key}: only with mode 'existing'`);
    if (source.mode === "msk-serverless" && source.brokers)
      problems.push(`${at}.brokers: only with mode 'msk-provisioned'`);
  }
  const topics = new Map<string, number>();
  const tables = new Map<string, number>();
  source.topics.forEach((t, i) => {
    const topic = topicConfig(t);
    const here = `${at}.topics[${i}]`;
    const seen = topics.get(topic.name);
    if (seen !== undefined) problems.push(`${here}: topic '${topic.name}' is listed twice (also topics[${seen}])`);
    else topics.set(topic.name, i);
    const table = deriveTopicTable(source.name, topic);
    problems.push(...table.problems.map((p) => `${here}: ${p}`));
    const first = tables.get(table.tableName);
    if (first !== undefined) problems.push(`${here}.table: '${table.tableName}' is also the table of topics[${first}]`);
    else tables.set(table.tableName, i);
  });
  return problems;
}

/**
 * Every problem of the stack's kafka sources, on the raw config (entries the schema rejects are skipped: their
 * structural problems are already reported). Sizing uses each source's cell region and the stack's scale.
 */
export function kafkaProblems(lh: Raw): string[] {
  const problems: string[] = [];
  const sources = isObj(lh.sources) ? arr(lh.sources.kafka) : [];
  const credentials = isObj(lh.sourceCredentials) ? lh.sourceCredentials : {};
  const regions = new Map<string, string>();
  for (const c of arr(lh.cells))
    if (isObj(c) && typeof c.name === "string" && isObj(c.aws) && typeof c.aws.region === "string")
      regions.set(c.name, c.aws.region);
  const parsed = sources.flatMap((raw, i) => {
    const r = kafkaSourceSchema.safeParse(raw);
    return r.success ? [{ source: r.data, at: `${NAMESPACE}:sources.kafka[${i}]` }] : [];
  });
  for (const { source, at } of parsed) problems.push(...kafkaSourceProblems(source, at, credentials));
  const scale = scaleSchema.safeParse(lh.scale);
  if (!scale.success) return problems;
  const byCell = new Map<string, StreamSizing[]>();
  for (const cell of new Set(parsed.map((p) => p.source.cell))) {
    const region = regions.get(cell);
    if (region === undefined) continue;
    const mine = parsed.filter((p) => p.source.cell === cell);
    const topicsInCell = sharingTopics(mine.map((p) => p.source));
    for (const { source, at } of mine) {
      const sized = sizeStream(source, scale.data, region, topicsInCell, at);
      problems.push(...sized.problems);
      byCell.set(cell, [...(byCell.get(cell) ?? []), sized]);
    }
  }
  for (const [cell, sized] of byCell)
    problems.push(...cellStreamProblems(sized, `${NAMESPACE}:sources.kafka (cell '${cell}')`));
  return problems;
}
