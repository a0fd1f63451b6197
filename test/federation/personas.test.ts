/**
 * The persona matrix derived back from the recorded plans equals the one table
 * (components/federation/persona-matrix.ts), and docs/personas.md is that table.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { PERSONAS, type LakehouseConfig, type PersonaId } from "../../components/config";
import {
  PERSONA_MATRIX,
  parsePersonaTable,
  renderPersonaDoc,
  ZONES,
  type Access,
  type Zone,
} from "../../components/federation/persona-matrix";
import { kebab } from "../../components/federation/personas-aws";
import type { Plan, PlannedResource } from "../../tools/plan/evaluate";
import { configOf, ofType, planOf } from "../helpers/plan";

const policyOf = (r: PlannedResource, key: string): { Statement: Record<string, unknown>[] } =>
  JSON.parse(String(r.inputs[key])) as { Statement: Record<string, unknown>[] };
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

const DATASET_ZONES: Readonly<Record<string, Zone>> = {
  clickstream_raw: "clickstream",
  clickstream_views: "clickstream",
  curated: "curated",
  lake: "curated",
  lake_feed: "curated",
  marts: "marts",
};

/** Persona x zone as granted in one cell of a plan, on both clouds. */
function derivedMatrix(
  plan: Plan,
  config: LakehouseConfig,
  cellName: string,
): Partial<Record<PersonaId, Record<Zone, Access>>> {
  const cell = config.cells.find((c) => c.name === cellName)!;
  const out: Partial<Record<PersonaId, Record<Zone, Access>>> = {};
  const grant = (p: PersonaId, z: Zone, a: Access) => {
    const row = (out[p] ??= Object.fromEntries(ZONES.map((x) => [x, "none"])) as Record<Zone, Access>);
    if (row[z] !== "read") row[z] = a;
  };
  const personaOfMember = (member: string): PersonaId | undefined =>
    PERSONAS.find((p) => (config.personas[p]?.gcpMembers ?? []).includes(member));
  const memberOf = (r: PlannedResource): string =>
    typeof r.inputs.groupByEmail === "string"
      ? `group:${r.inputs.groupByEmail}`
      : typeof r.inputs.iamMember === "string"
        ? r.inputs.iamMember
        : `user:${String(r.inputs.userByEmail)}`;

  // GCP: dataset reads, audit logs, break-glass entitlements.
  for (const r of ofType(plan, "gcp:bigquery/datasetAccess:DatasetAccess", cellName)) {
    if (r.inputs.role === undefined) continue; // authorized views
    const m = memberOf(r);
    const p = personaOfMember(m) ?? personaOfMember(m.replace(/^user:/, "serviceAccount:"));
    if (!p) continue;
    expect(r.inputs.role, r.name).to.equal("READER");
    grant(p, DATASET_ZONES[String(r.inputs.datasetId)], "read");
  }
  for (const r of ofType(plan, "gcp:projects/iAMMember:IAMMember", cellName)) {
    const p = personaOfMember(String(r.inputs.member));
    if (p && r.inputs.role === "roles/logging.privateLogViewer") grant(p, "audit", "read");
  }
  // The data-subject request exports bucket on GCP (components/gcp/rights): read by the privacy officers.
  for (const r of ofType(plan, "gcp:storage/bucketIAMMember:BucketIAMMember", cellName)) {
    const p = personaOfMember(String(r.inputs.member));
    if (p && r.inputs.role === "roles/storage.objectViewer" && /exports/.test(String(r.inputs.bucket)))
      grant(p, "requests", "read");
  }
  for (const r of ofType(plan, "gcp:privilegedaccessmanager/entitlement:entitlement", cellName)) {
    const principals = (r.inputs.eligibleUsers as { principals: string[] }[]).flatMap((u) => u.principals);
    const bindings = (
      r.inputs.privilegedAccess as { gcpIamAccess: { roleBindings: { role: string; conditionExpression?: string }[] } }
    ).gcpIamAccess.roleBindings;
    const datasets = bindings.flatMap((b) =>
      [...(b.conditionExpression ?? "").matchAll(/datasets\/([a-z_]+)"/g)].map((m) => m[1]),
    );
    for (const m of principals) for (const ds of datasets) grant(personaOfMember(m)!, DATASET_ZONES[ds], "break-glass");
  }

  // AWS: persona roles, their Lake Formation grants per zone database, and the audit statement.
  const dbZone = (db: string): Zone | undefined =>
    (/_(raw|curated|marts)$/.exec(db)?.[1] as Zone | undefined) ?? undefined;
  for (const role of ofType(plan, "aws:iam/role:Role", cellName).filter(
    (r) => (r.inputs.tags as Record<string, string>)?.persona,
  )) {
    const tags = role.inputs.tags as Record<string, string>;
    const p = PERSONAS.find((x) => kebab(x) === tags.persona)!;
    const level: Access = tags["break-glass"] === "true" ? "break-glass" : "read";
    const arn = String(role.outputs.arn);
    for (const lf of ofType(plan, "aws:lakeformation/permissions:Permissions", cellName).filter(
      (x) => x.inputs.principal === arn,
    )) {
      const db =
        (lf.inputs.database as { name?: string } | undefined)?.name ??
        (lf.inputs.table as { databaseName: string }).databaseName;
      grant(p, dbZone(db)!, level);
    }
    const policy = ofType(plan, "aws:iam/rolePolicy:RolePolicy", cellName).find(
      (x) => x.inputs.role === role.outputs.name,
    )!;
    if (policyOf(policy, "policy").Statement.some((s) => s.Sid === "AuditTrailRead")) grant(p, "audit", level);
    // The privacy officers' role (components/aws/rights): the intake URL and the exports bucket.
    if (policyOf(policy, "policy").Statement.some((s) => s.Sid === "ReadExports")) grant(p, "requests", level);
    // A persona role trusts only principals of the cell's own account; break-glass needs MFA and short sessions.
    const trust = policyOf(role, "assumeRolePolicy").Statement;
    for (const s of trust) {
      for (const principal of asArray((s.Principal as { AWS: unknown }).AWS)) {
        expect(String(principal)).to.match(new RegExp(`^arn:aws:iam::${cell.aws.accountId}:`));
      }
      if (level === "break-glass")
        expect(s.Condition).to.deep.equal({ Bool: { "aws:MultiFactorAuthPresent": "true" } });
    }
    expect(role.inputs.maxSessionDuration).to.equal(level === "break-glass" ? 3600 : 14400);
  }
  return out;
}

describe("personas", () => {
  for (const stack of ["prod", "dev"]) {
    describe(`${stack} plan`, () => {
      const config = configOf(stack);
      for (const cell of config.cells) {
        it(`cell ${cell.name}: the grants on both clouds equal the persona matrix`, async () => {
          const plan = await planOf(stack);
          const derived = derivedMatrix(plan, config, cell.name);
          const configured = PERSONAS.filter(
            (p) =>
              (config.personas[p]?.gcpMembers ?? []).length > 0 || (config.personas[p]?.awsPrincipals ?? []).length > 0,
          );
          const expected = Object.fromEntries(configured.map((p) => [p, { ...PERSONA_MATRIX[p] }]));
          // The raw zone exists on AWS only: a persona without AWS principals in the cell cannot be granted it.
          for (const p of configured) {
            if (!(config.personas[p]?.awsPrincipals ?? []).some((a) => a.includes(`::${cell.aws.accountId}:`))) {
              expected[p].raw = "none";
            }
          }
          expect(derived).to.deep.equal(expected);
        });
      }
    });
  }

  it("prod grants the whole matrix (every persona configured, break-glass on both clouds)", async () => {
    const plan = await planOf("prod");
    const config = configOf("prod");
    for (const cell of config.cells) expect(derivedMatrix(plan, config, cell.name)).to.deep.equal(PERSONA_MATRIX);
  });

  it("docs/personas.md is generated from the matrix and reads back as the same matrix", () => {
    const doc = readFileSync(path.resolve(__dirname, "../../docs/personas.md"), "utf8");
    expect(doc).to.equal(renderPersonaDoc());
    expect(parsePersonaTable(doc)).to.deep.equal(PERSONA_MATRIX);
  });

  for (const stack of ["prod", "dev"]) {
    const config = configOf(stack);
    for (const cell of config.cells) {
      it(`${stack} cell ${cell.name}: the notebooks' service account reads exactly the data scientists' GCP zones, never an identifier beyond pseudonyms`, async () => {
        const plan = await planOf(stack);
        const wb = ofType(plan, "gcp:workbench/instance:Instance", cell.name);
        expect(wb.length).to.be.greaterThan(0);
        const email = (wb[0].inputs.gceSetup as { serviceAccounts: { email: string }[] }).serviceAccounts[0].email;
        const member = `serviceAccount:${email}`;
        const mine = plan.resources.filter(
          (r) => r.cell === cell.name && (r.inputs.member === member || r.inputs.userByEmail === email),
        );
        const row: Record<Zone, Access> = Object.fromEntries(ZONES.map((z) => [z, "none"])) as Record<Zone, Access>;
        for (const r of mine.filter((x) => x.type === "gcp:bigquery/datasetAccess:DatasetAccess")) {
          expect(r.inputs.role, r.name).to.equal("READER");
          const zone = DATASET_ZONES[String(r.inputs.datasetId)];
          expect(zone, `dataset ${String(r.inputs.datasetId)}`).to.be.a("string");
          row[zone] = "read";
        }
        // The clickstream zone's events table, granted on the table: not clickstream_raw as a whole, whose
        // dead-letter table keeps raw payloads under the pseudonym tag.
        const tables = mine.filter((x) => x.type === "gcp:bigquery/iamMember:IamMember");
        for (const t of tables) {
          expect(`${String(t.inputs.datasetId)}.${String(t.inputs.tableId)}|${String(t.inputs.role)}`).to.equal(
            "clickstream_raw.events|roles/bigquery.dataViewer",
          );
          row.clickstream = "read";
        }
        expect(
          mine.some(
            (x) => x.type === "gcp:bigquery/datasetAccess:DatasetAccess" && x.inputs.datasetId === "clickstream_raw",
          ),
          "no dataset-wide read of clickstream_raw",
        ).to.equal(false);
        // Workloads get no audit, break-glass or request access, whatever the persona's row says.
        expect(mine.map((x) => x.inputs.role)).not.to.include("roles/logging.privateLogViewer");
        expect(
          ofType(plan, "gcp:privilegedaccessmanager/entitlement:entitlement", cell.name).some((e) =>
            JSON.stringify(e.inputs.eligibleUsers).includes(email),
          ),
        ).to.equal(false);
        const gcpRow = { ...PERSONA_MATRIX.dataScientists, raw: "none", audit: "none", requests: "none" };
        expect(row).to.deep.equal(gcpRow);
        expect(PERSONA_MATRIX.dataScientists.clickstream).to.equal("read");

        // Column access: the pseudonym tag only (features and labels are keyed by it), never the
        // network-address or quasi-identifier tags.
        const tagNames = new Map(
          ofType(plan, "gcp:datacatalog/policyTag:PolicyTag", cell.name).map((t) => [
            String(t.outputs.name),
            String(t.inputs.displayName),
          ]),
        );
        const tagReads = mine
          .filter((x) => x.type === "gcp:datacatalog/policyTagIamMember:PolicyTagIamMember")
          .map((x) => tagNames.get(String(x.inputs.policyTag)));
        expect(tagReads).to.deep.equal(["pseudonymous-id"]);
      });
    }
  }

  it("prod: the marketing application holds its marts row and, to serve offers, exactly predict and fetch features", async () => {
    const plan = await planOf("prod");
    const config = configOf("prod");
    const members = config.personas.marketingApp?.gcpMembers ?? [];
    expect(members.length).to.be.greaterThan(0);
    for (const cell of config.cells) {
      const roles = new Map(
        ofType(plan, "gcp:projects/iAMCustomRole:IAMCustomRole", cell.name).map((r) => [
          `projects/${cell.gcp.project}/roles/${String(r.inputs.roleId)}`,
          (r.inputs.permissions as string[]).join(","),
        ]),
      );
      for (const member of members) {
        const email = member.replace(/^serviceAccount:/, "");
        const held = plan.resources
          .filter((r) => r.cell === cell.name && (r.inputs.member === member || r.inputs.userByEmail === email))
          .map((r) => {
            const role = String(r.inputs.role);
            const what = roles.get(role) ?? role;
            if (r.type === "gcp:bigquery/datasetAccess:DatasetAccess")
              return `dataset ${String(r.inputs.datasetId)} ${what}`;
            return `${r.type.split(":")[1]} ${what}`;
          })
          .sort();
        expect(held, `${cell.name} ${member}`).to.deep.equal(
          [
            "dataset marts READER",
            "projects/iAMMember roles/bigquery.jobUser",
            "vertex/aiEndpointIamMember aiplatform.endpoints.predict",
            "vertex/aiFeatureOnlineStoreFeatureviewIamMember aiplatform.featureViews.fetchFeatureValues",
          ].sort(),
        );
      }
    }
  });

  it("nobody reads raw by default: raw is break-glass only", () => {
    for (const p of PERSONAS)
      expect(PERSONA_MATRIX[p].raw, p).to.be.oneOf(p === "breakGlass" ? ["break-glass"] : ["none"]);
  });
});
