/**
 * Who reads what: the persona x zone access matrix, the one source of truth. The persona components
 * build every grant on both clouds from this table, `docs/personas.md` is generated from it
 * (`npm run docs:personas` / `renderPersonaDoc()`), and `test/federation/personas.test.ts` derives the
 * matrix back from the recorded plan and checks it equals this table.
 *
 * Principles (GDPR Art. 5(1)(c), 25(2), 32(4); LGPD Art. 6 III, 46):
 * - nobody reads direct identifiers (the AWS raw zone) by default: only break-glass, just in time,
 *   approved and audited;
 * - pseudonymised zones (curated, clickstream) are for the people who build models and pipelines;
 * - PII-free marts are for everyone who consumes data;
 * - the audit trail is for the DPO and for incident response, never writable by anyone.
 */
import type { PersonaId } from "../config/schema";
import { PERSONAS } from "../config/schema";

/**
 * Zones of a cell:
 * - `raw`: CDC/landing data with direct identifiers (AWS raw Glue database and raw bucket);
 * - `curated`: conformed, pseudonymised Iceberg tables (AWS curated database; BigQuery `curated` and
 *   the lake dataset: Omni-federated in eu, in-country copy in br);
 * - `clickstream`: pseudonymised website/app events and their views and ML features (BigQuery
 *   `clickstream_raw`, `clickstream_views`);
 * - `marts`: PII-free KPI and segment views (BigQuery `marts`, AWS marts database);
 * - `audit`: CloudTrail files and Cloud Audit Logs (who read which personal data);
 * - `requests`: the data-subject request intake and the access exports it produces (one subject's rows,
 *   for a week: components/aws/rights, components/gcp/rights).
 */
export const ZONES = ["raw", "curated", "clickstream", "marts", "audit", "requests"] as const;
export type Zone = (typeof ZONES)[number];

/**
 * - `read`: standing read access;
 * - `break-glass`: no standing access; a time-bound grant on request (GCP Privileged Access Manager
 *   entitlement approved by compliance; AWS role needing MFA with a one-hour session), both audited;
 * - `none`: no access.
 */
export const ACCESS_LEVELS = ["none", "read", "break-glass"] as const;
export type Access = (typeof ACCESS_LEVELS)[number];

export const PERSONA_MATRIX: Readonly<Record<PersonaId, Readonly<Record<Zone, Access>>>> = {
  // Operate the platform through Pulumi and CI; read the audit trail for incident response, no data.
  platformEngineers: {
    raw: "none",
    curated: "none",
    clickstream: "none",
    marts: "none",
    audit: "read",
    requests: "none",
  },
  // Build and debug pipelines on pseudonymised data; raw only through break-glass like anyone else.
  dataEngineers: { raw: "none", curated: "read", clickstream: "read", marts: "read", audit: "none", requests: "none" },
  // Train models on pseudonymised data (Vertex AI Workbench over BigQuery and the federated lake); their
  // notebooks' service account reads the same zones (components/gcp/clickstream/workbench.ts).
  dataScientists: { raw: "none", curated: "read", clickstream: "read", marts: "read", audit: "none", requests: "none" },
  analysts: { raw: "none", curated: "none", clickstream: "none", marts: "read", audit: "none", requests: "none" },
  businessUsers: { raw: "none", curated: "none", clickstream: "none", marts: "read", audit: "none", requests: "none" },
  // The offers application reads customer segments (pseudonymous ids only); outside the zones it may call
  // the offers endpoint and read the online features of one feature view (ml-serving.ts), nothing else.
  marketingApp: { raw: "none", curated: "none", clickstream: "none", marts: "read", audit: "none", requests: "none" },
  // The DPO verifies who accessed what (GDPR Art. 30, 39; LGPD Art. 37, 41); data access goes through
  // the data-subject-request workers, not through standing grants.
  compliance: { raw: "none", curated: "none", clickstream: "none", marts: "none", audit: "read", requests: "none" },
  breakGlass: {
    raw: "break-glass",
    curated: "break-glass",
    clickstream: "break-glass",
    marts: "none",
    audit: "none",
    requests: "none",
  },
  // The controller's privacy team: file access and erasure requests, read the exports (ADR 0013); no
  // standing access to any zone, the workers do the reading and deleting.
  privacyOfficers: {
    raw: "none",
    curated: "none",
    clickstream: "none",
    marts: "none",
    audit: "none",
    requests: "read",
  },
};

/** Zones a persona reads with standing access. */
export const readZones = (persona: PersonaId): Zone[] => ZONES.filter((z) => PERSONA_MATRIX[persona][z] === "read");

/** Zones a persona reaches only just in time. */
export const breakGlassZones = (persona: PersonaId): Zone[] =>
  ZONES.filter((z) => PERSONA_MATRIX[persona][z] === "break-glass");

/** Human-readable persona names for the documentation. */
export const PERSONA_TITLES: Readonly<Record<PersonaId, string>> = {
  platformEngineers: "Platform engineers",
  dataEngineers: "Data engineers",
  dataScientists: "Data scientists",
  analysts: "Analysts",
  businessUsers: "Business users",
  marketingApp: "Marketing application",
  compliance: "DPO / compliance",
  breakGlass: "Break-glass",
  privacyOfficers: "Privacy officers",
};

const ZONE_WHERE: Readonly<Record<Zone, string>> = {
  raw: "AWS Glue `<env>_<cell>_raw`, S3 raw bucket (Lake Formation)",
  curated:
    "AWS Glue `<env>_<cell>_curated`, warehouse `curated/`; BigQuery `curated` and `lake` (eu: Omni-federated, br: in-country copy)",
  clickstream:
    "BigQuery `clickstream_raw` and `clickstream_views` (marketing's views and the ML features `user_features`)",
  marts: "BigQuery `marts` (authorized views), AWS Glue `<env>_<cell>_marts` + Athena workgroup",
  audit: "S3 audit bucket (CloudTrail), Cloud Audit Logs (`roles/logging.privateLogViewer`)",
  requests:
    "data-subject request intake (Lambda function URL, `AWS_IAM`), S3 `rights-exports` bucket and the GCS exports bucket (`requests/<id>/`)",
};

const CELL: Readonly<Record<Access, string>> = { none: "-", read: "read", "break-glass": "break-glass (JIT, audited)" };

/** The persona matrix as a markdown table (the body of `docs/personas.md`). */
export function renderPersonaTable(): string {
  const header = `| persona | ${ZONES.join(" | ")} |`;
  const rule = `|---|${ZONES.map(() => "---").join("|")}|`;
  const rows = PERSONAS.map(
    (p) => `| ${PERSONA_TITLES[p]} (\`${p}\`) | ${ZONES.map((z) => CELL[PERSONA_MATRIX[p][z]]).join(" | ")} |`,
  );
  return [header, rule, ...rows].join("\n");
}

/** Parses a table rendered by `renderPersonaTable` back into a matrix (for the docs test). */
export function parsePersonaTable(markdown: string): Record<string, Record<string, Access>> {
  const lines = markdown.split("\n").filter((l) => /^\| .*\(`[a-zA-Z]+`\) \|/.test(l));
  const byCell = Object.fromEntries(Object.entries(CELL).map(([k, v]) => [v, k as Access]));
  const out: Record<string, Record<string, Access>> = {};
  for (const line of lines) {
    const cells = line
      .split("|")
      .slice(1, -1)
      .map((c) => c.trim());
    const id = /\(`([a-zA-Z]+)`\)/.exec(cells[0])?.[1] ?? "";
    out[id] = Object.fromEntries(ZONES.map((z, i) => [z, byCell[cells[i + 1]]]));
  }
  return out;
}

/** The whole `docs/personas.md`. */
export function renderPersonaDoc(): string {
  return [
    "# Personas: who reads which zone",
    "",
    "<!-- Generated from components/federation/persona-matrix.ts by `npx tsx components/federation/render-personas-doc.ts`; do not edit by hand. -->",
    "<!-- test/federation/personas.test.ts checks that this file, the table and the plan agree. -->",
    "",
    "Every cell grants exactly this matrix on both clouds, from one TypeScript table",
    "(`components/federation/persona-matrix.ts`). Members come from `lakehouse:personas.<persona>`",
    "(`gcpMembers`, `awsPrincipals`); a persona without members gets no grant.",
    "",
    renderPersonaTable(),
    "",
    "## Zones",
    "",
    ...ZONES.map((z) => `- **${z}**: ${ZONE_WHERE[z]}`),
    "",
    "## How a grant is made",
    "",
    "| | AWS (per cell) | GCP (per cell) |",
    "|---|---|---|",
    "| read | one IAM role per persona (`lakehouse-<env>-<cell>-<persona>`), trusted by the persona's `awsPrincipals` of the cell's account; named actions only (Athena, Glue read, `lakeformation:GetDataAccess`, `s3:GetObject` on the zone prefix, `kms:Decrypt` on the lake key); Lake Formation `DESCRIBE` on the zone database and `SELECT`/`DESCRIBE` on its tables | `roles/bigquery.dataViewer` per dataset of the zone (`gcp.bigquery.DatasetAccess`, which keeps the authorized views intact), `roles/bigquery.jobUser` on the project; audit: `roles/logging.privateLogViewer` |",
    "| break-glass | a separate role requiring MFA, one-hour sessions, Lake Formation grants on raw and curated; CloudTrail records the `AssumeRole` and every S3 data event | a Privileged Access Manager entitlement (`roles/bigquery.dataViewer` on the zone datasets, at most one hour, written justification, approved by the compliance group); Cloud Audit Logs record the grant and every read |",
    "| none | no statement, no grant | no binding |",
    "",
    "The `requests` zone is reached through the data-subject request machinery (ADR 0013), not through table",
    "grants: on AWS a role per cell (`lakehouse-<env>-<cell>-privacy-officers`, trusted by the persona's",
    "`awsPrincipals`) that may call the intake's function URL (`AWS_IAM`; the function's resource policy names",
    "the role for `lambda:InvokeFunctionUrl` and, through the URL only, `lambda:InvokeFunction`) and read the",
    "exports bucket, whose policy denies every other principal; on GCP read on the exports bucket.",
    "",
    "Workloads act for a persona and read as it reads, never more: the data scientists' notebooks run as one",
    "service account per cell (`lh-<env>-<cell>-workbench`) that gets the persona's curated and marts datasets",
    "from the persona layer and, from the Workbench component, the clickstream zone as notebooks need it: the",
    "`clickstream_raw.events` table (a table grant, not the dataset, whose dead-letter table keeps raw payloads),",
    "the `clickstream_views` dataset and `roles/datacatalog.categoryFineGrainedReader` on the `pseudonymous-id`",
    "policy tag only (visitor pseudonyms key the features and labels; the `network-address` and",
    "`quasi-identifier` columns stay unreadable). No workload gets audit, break-glass or request access.",
    "",
    "Serving is not a zone: the marketing application's members may call `predict` on the cell's offers",
    "endpoint and `fetchFeatureValues` on its `user_features` feature view, each through a one-permission",
    'custom role bound on that one resource (components/gcp/clickstream/README.md, "Serving path").',
    "",
    "No grant anywhere uses a primitive role (`roles/owner`, `roles/editor`, `roles/viewer`) or a wildcard",
    "action; consumers of marts read authorized views and need no access to the sources.",
    "",
    "Administration is not data access: the platform engineers' roles of a cell's account are Lake Formation",
    "administrators (storage core) so that deployments can grant the rows above; any grant outside this table",
    "is a `lakeformation:GrantPermissions` management event in CloudTrail, which the compliance persona",
    "reads, and the next `pulumi up` shows it as drift only for grants Pulumi manages, so review the trail.",
    "",
  ].join("\n");
}
