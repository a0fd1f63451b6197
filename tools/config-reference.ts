/**
 * `npm run config:reference [-- --check]`: writes docs/config-reference.md from the config schema itself
 * (zod -> JSON Schema), so the reference cannot drift from what validation accepts. `--check` fails if
 * the committed file is stale (the tests run the same comparison).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { JURISDICTIONS } from "../components/config/jurisdictions";
import { lakehouseSchema } from "../components/config/schema";
import { PROJECT_ROOT } from "../components/project-root";

/** One line per top-level key; a test keeps this list equal to the schema's keys. */
export const TOP_LEVEL_DOCS: Readonly<Record<string, string>> = {
  environment: "Stack environment; names every physical resource (`lakehouse-<environment>-<cell>-...`).",
  cells:
    "The cells to deploy: one jurisdiction each, with its AWS account/region, GCP project/region and federation mode.",
  scale:
    "Business volume. Every size (DMS capacity, Dataflow workers, collector instances, Athena cutoff) derives from it.",
  retention:
    "Days to keep each data class; a cell may override. Bounded by the jurisdiction's ceilings and audit floor.",
  erasureSlaDays:
    "Days within which an erasure request is physically complete on both clouds (bounds noncurrent versions, time travel, snapshot expiry).",
  bigqueryTimeTravelHours: "BigQuery time travel window (48-168, whole days), within the erasure SLA.",
  protect:
    "Protect stateful resources (`protect`, `retainOnDelete`, the clouds' deletion protection, COMPLIANCE-mode audit lock).",
  sources: "Declared sources: transactional databases, Kafka, Cassandra, Elasticsearch, CSV feeds, external APIs.",
  personas: "Who is who: GCP principals and AWS principals per persona.",
  sourceCredentials:
    "Credentials per source name (`pulumi config set --secret --path 'lakehouse:sourceCredentials.<name>.password' ...`).",
  alertEmails:
    "Addresses told when an alarm fires: e-mail subscriptions to each cell's ingestion alert topic and Cloud Monitoring e-mail channels for the clickstream alerts.",
  workbench: "Vertex AI Workbench instances for data scientists: how many, machine type, idle shutdown.",
  collectorWriteKeys:
    "Write keys the clickstream collector accepts (`pulumi config set --secret lakehouse:collectorWriteKeys 'k1,k2'`).",
};

type Json = { [k: string]: unknown };

function describe(s: Json): string {
  const parts: string[] = [];
  const t = s.type;
  if (Array.isArray(s.enum)) parts.push(`one of ${(s.enum as unknown[]).map((v) => `\`${String(v)}\``).join(", ")}`);
  else if (typeof t === "string") parts.push(t === "array" ? "list" : t);
  if (s.pattern) parts.push(`pattern \`${String(s.pattern)}\``);
  if (s.format) parts.push(String(s.format));
  if (s.minimum !== undefined) parts.push(`≥ ${String(s.minimum)}`);
  if (s.exclusiveMinimum !== undefined) parts.push(`> ${String(s.exclusiveMinimum)}`);
  if (s.maximum !== undefined && s.maximum !== Number.MAX_SAFE_INTEGER) parts.push(`≤ ${String(s.maximum)}`);
  if (s.minLength !== undefined && s.minLength !== 1) parts.push(`length ≥ ${String(s.minLength)}`);
  if (s.minItems !== undefined) parts.push(`at least ${String(s.minItems)}`);
  if (s.default !== undefined) parts.push(`default \`${JSON.stringify(s.default)}\``);
  // A `|` inside a pattern would end the Markdown table cell.
  return parts.join(", ").replace(/\|/g, "\\|");
}

function rows(s: Json, at: string, required: boolean, out: string[][]): void {
  const anyOf = (s.anyOf ?? s.oneOf) as Json[] | undefined;
  if (anyOf) {
    const first = anyOf.find((x) => x.type !== "null") ?? anyOf[0];
    return rows(first, at, required, out);
  }
  out.push([`\`${at}\``, describe(s) || "any", required ? "yes" : ""]);
  if (s.type === "object" && s.properties) {
    const req = new Set((s.required as string[] | undefined) ?? []);
    for (const [k, v] of Object.entries(s.properties as Record<string, Json>)) rows(v, `${at}.${k}`, req.has(k), out);
  } else if (s.type === "object" && typeof s.additionalProperties === "object") {
    rows(s.additionalProperties as Json, `${at}.<name>`, true, out);
  } else if (s.type === "array" && s.items) {
    rows(s.items as Json, `${at}[]`, true, out);
  }
}

export function renderConfigReference(): string {
  const schema = z.toJSONSchema(lakehouseSchema, { io: "input", unrepresentable: "any" }) as Json;
  const props = schema.properties as Record<string, Json>;
  const req = new Set((schema.required as string[]) ?? []);
  const lines = [
    "# Stack config reference",
    "",
    "Generated from `components/config/schema.ts` by `npm run config:reference`; do not edit by hand.",
    "Every key lives in the `lakehouse:` namespace of `Pulumi.<stack>.yaml`. An unknown key is an error.",
    "",
    "## Keys",
    "",
  ];
  for (const [key, sub] of Object.entries(props)) {
    lines.push(`### \`lakehouse:${key}\`${req.has(key) ? "" : " (optional)"}`, "", TOP_LEVEL_DOCS[key] ?? "", "");
    const out: string[][] = [];
    rows(sub, key, req.has(key), out);
    lines.push("| key | type and constraints | required |", "|---|---|---|");
    for (const r of out) lines.push(`| ${r.join(" | ")} |`);
    lines.push("");
  }
  lines.push(
    "## Rules across keys",
    "",
    "- Each cell's `aws.region` and `gcp.region` must belong to its jurisdiction:",
    ...Object.values(JURISDICTIONS).map(
      (j) => `  - \`${j.id}\` (${j.law}): AWS ${j.awsRegions.join(", ")}; GCP ${j.gcpRegions.join(", ")}`,
    ),
    "- `federation: omni` needs a BigQuery Omni region for the cell's AWS region (none exists in South America).",
    "- Cell names are unique; every source names a configured cell and, where it has credentials, an entry of `sourceCredentials`.",
    "- Retention per data class is at most the jurisdiction's ceiling; audit retention at least its floor:",
    ...Object.values(JURISDICTIONS).map(
      (j) =>
        `  - \`${j.id}\`: ceilings ${Object.entries(j.retentionCeilingDays)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")} days; audit ≥ ${j.auditFloorDays} days; erasure SLA ≤ ${j.erasureSlaCeilingDays} days`,
    ),
    "- `bigqueryTimeTravelHours` is 48-168 in steps of 24, and a day for the live delete, the time travel and BigQuery's 7-day fail-safe fit in `erasureSlaDays` (so the SLA is at least 10 days).",
    "",
  );
  return lines.join("\n");
}

export const CONFIG_REFERENCE_FILE = path.join(PROJECT_ROOT, "docs", "config-reference.md");

if (require.main === module) {
  const text = renderConfigReference();
  if (process.argv.includes("--check")) {
    const current = fs.existsSync(CONFIG_REFERENCE_FILE) ? fs.readFileSync(CONFIG_REFERENCE_FILE, "utf8") : "";
    if (current !== text) {
      console.error("docs/config-reference.md is stale: run `npm run config:reference`.");
      process.exit(1);
    }
    console.log("docs/config-reference.md is up to date.");
  } else {
    fs.writeFileSync(CONFIG_REFERENCE_FILE, text);
    console.log(`Wrote ${path.relative(PROJECT_ROOT, CONFIG_REFERENCE_FILE)}`);
  }
}
