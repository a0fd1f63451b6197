/**
 * Issue 10, findings 3 and 4, on the recorded dependency graph: on a fresh project every GCP resource
 * waits for the enablement of its API, and every key grant to a Google service agent waits for the agent
 * (its ServiceIdentity) or for the API whose enablement creates it. The mocks would accept any order, so
 * these are the checks that a first `pulumi up` does not race its own APIs.
 */
import { expect } from "chai";
import { API_OF_TYPE, SERVICE_TYPE, apiOf } from "../../components/gcp/api-requirements";
import type { Plan, PlannedResource } from "../../tools/plan/evaluate";
import { planOf } from "../helpers/plan";

const projectOf = (r: PlannedResource): string | undefined =>
  (typeof r.inputs.project === "string" ? r.inputs.project : undefined) ?? r.provider?.project;

/** Every URN a resource waits for: explicit `dependsOn` and the resources its inputs come from. */
const waitsFor = (r: PlannedResource): Set<string> =>
  new Set([...r.dependencies, ...Object.values(r.propertyDependencies).flat()]);

/** The `projects.Service` resources enabling `api` in `project`. */
const enablementsOf = (plan: Plan, project: string | undefined, api: string): string[] =>
  plan.resources
    .filter((s) => s.type === SERVICE_TYPE && s.inputs.service === api && s.inputs.project === project)
    .map((s) => s.urn);

/** Service agents by e-mail domain -> the API whose enablement (or generateServiceIdentity) creates them. */
const AGENT_API: readonly [RegExp, (m: RegExpExecArray) => string][] = [
  [/@gcp-sa-([a-z-]+)\.iam\.gserviceaccount\.com$/, (m) => `${m[1]}.googleapis.com`],
  [/@dataflow-service-producer-prod\.iam\.gserviceaccount\.com$/, () => "dataflow.googleapis.com"],
  [/@compute-system\.iam\.gserviceaccount\.com$/, () => "compute.googleapis.com"],
  [/@serverless-robot-prod\.iam\.gserviceaccount\.com$/, () => "run.googleapis.com"],
  [/@bigquery-encryption\.iam\.gserviceaccount\.com$/, () => "bigquery.googleapis.com"],
  [/@gs-project-accounts\.iam\.gserviceaccount\.com$/, () => "storage.googleapis.com"],
];

export function agentApi(member: string): string | undefined {
  for (const [re, api] of AGENT_API) {
    const m = re.exec(member);
    if (m) return api(m);
  }
  return undefined;
}

for (const stack of ["dev", "prod"]) {
  describe(`GCP resources wait for their APIs (${stack})`, () => {
    let plan: Plan;
    before(async () => {
      plan = await planOf(stack);
    });

    it("knows the API of every GCP resource type in the plan (a new type needs a row in api-requirements.ts)", () => {
      const types = new Set(plan.resources.filter((r) => r.type.startsWith("gcp:")).map((r) => r.type));
      expect(types.size).to.be.greaterThan(20);
      expect([...types].filter((t) => API_OF_TYPE[t] === undefined)).to.deep.equal([]);
    });

    it("enables every API a GCP resource of the cell needs", () => {
      const missing = new Set<string>();
      for (const r of plan.resources.filter((x) => x.custom && x.type.startsWith("gcp:") && x.type !== SERVICE_TYPE)) {
        const api = apiOf(r.type, r.inputs);
        if (api && api !== "serviceusage.googleapis.com" && enablementsOf(plan, projectOf(r), api).length === 0)
          missing.add(`${projectOf(r)}: ${api} (${r.type})`);
      }
      expect([...missing]).to.deep.equal([]);
    });

    it("makes every GCP resource depend on the Service that enables its API", () => {
      const racing: string[] = [];
      for (const r of plan.resources.filter((x) => x.custom && x.type.startsWith("gcp:") && x.type !== SERVICE_TYPE)) {
        const api = apiOf(r.type, r.inputs);
        // Service Usage itself must be on before the first `up` (docs/first-deploy.md): nothing to wait for.
        if (api === undefined || api === "serviceusage.googleapis.com") continue;
        const services = enablementsOf(plan, projectOf(r), api);
        if (!services.some((s) => r.dependencies.includes(s))) racing.push(`${r.name} (${r.type}) -> ${api}`);
      }
      expect(racing).to.deep.equal([]);
    });

    it("grants keys to a service agent only after the agent exists (ServiceIdentity, or its API's enablement)", () => {
      const grants = plan.resources.filter((r) => r.type === "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember");
      const toAgents = grants.filter((g) => agentApi(String(g.inputs.member)) !== undefined);
      expect(toAgents.length).to.be.greaterThan(5);
      const early: string[] = [];
      for (const g of toAgents) {
        const member = String(g.inputs.member);
        const api = agentApi(member)!;
        const deps = waitsFor(g);
        const identity = plan.resources.find(
          (r) => r.type === "gcp:projects/serviceIdentity:ServiceIdentity" && r.outputs.member === member,
        );
        const enabled = enablementsOf(plan, projectOf(g), api).some((s) => deps.has(s));
        if (!(identity !== undefined && deps.has(identity.urn)) && !enabled) early.push(`${g.name}: ${member}`);
      }
      expect(early).to.deep.equal([]);
    });

    it("creates the Dataflow, Pub/Sub, Secret Manager and Vertex AI agents with ServiceIdentity, after their APIs", () => {
      const identities = plan.resources.filter((r) => r.type === "gcp:projects/serviceIdentity:ServiceIdentity");
      const services = new Set(identities.map((i) => String(i.inputs.service)));
      for (const api of [
        "dataflow.googleapis.com",
        "pubsub.googleapis.com",
        "secretmanager.googleapis.com",
        "aiplatform.googleapis.com",
      ])
        expect(services, api).to.include(api);
      for (const i of identities) {
        const enabled = enablementsOf(plan, projectOf(i), String(i.inputs.service));
        expect(
          enabled.some((s) => i.dependencies.includes(s)),
          `${i.name} waits for ${String(i.inputs.service)}`,
        ).to.equal(true);
      }
    });
  });
}
