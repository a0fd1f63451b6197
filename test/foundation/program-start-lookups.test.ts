/**
 * Nothing reads at program start what a later resource of the same `up` creates. On a fresh project a
 * data source whose API the program itself enables fails with SERVICE_DISABLED before anything is
 * created, so such a lookup must wait for the API (and, in a first preview, stay unknown). The plan
 * records every invoke the program issued; evaluated as a first preview (nothing exists yet), the
 * only invokes issued are those that ran at program start.
 */
import { expect } from "chai";
import { API_OF_INVOKE, SERVICE_TYPE } from "../../components/gcp/api-requirements";
import type { Plan } from "../../tools/plan/types";
import { firstPreviewOf, planOf } from "../helpers/plan";

/** `project/api` of every API the program enables. */
const enabledByProgram = (plan: Plan): Set<string> =>
  new Set(
    plan.resources
      .filter((r) => r.type === SERVICE_TYPE)
      .map((r) => `${String(r.inputs.project)}/${String(r.inputs.service)}`),
  );

const projectOf = (plan: Plan, invoke: Plan["invokes"][number]): string | undefined => {
  const fromArgs = invoke.inputs.project ?? invoke.inputs.projectId;
  if (typeof fromArgs === "string") return fromArgs;
  const provider = plan.resources.find((r) => r.urn === invoke.provider);
  return typeof provider?.inputs.project === "string" ? provider.inputs.project : undefined;
};

describe("program start: no lookup of what the same update creates", function () {
  this.timeout(300_000);

  for (const stack of ["dev", "prod"]) {
    it(`${stack}: every GCP data source the program calls is in the API table`, async () => {
      const tokens = new Set(
        [...(await planOf(stack)).invokes, ...(await firstPreviewOf(stack)).invokes].map((i) => i.token),
      );
      const gcp = [...tokens].filter((t) => t.startsWith("gcp:"));
      expect(gcp.length).to.be.greaterThan(0);
      expect(gcp.filter((t) => API_OF_INVOKE[t] === undefined)).to.deep.equal([]);
    });

    it(`${stack}: in a first preview, no data source runs before the API it needs is enabled`, async () => {
      const plan = await firstPreviewOf(stack);
      const enabled = enabledByProgram(plan);
      expect(enabled.size).to.be.greaterThan(0);
      const early = plan.invokes
        .filter((i) => API_OF_INVOKE[i.token] !== undefined)
        .filter((i) => enabled.has(`${projectOf(plan, i)}/${API_OF_INVOKE[i.token]}`))
        .map((i) => `${i.token} (${API_OF_INVOKE[i.token]} in ${projectOf(plan, i)})`);
      expect(early, "lookups that would fail with SERVICE_DISABLED on a fresh project").to.deep.equal([]);
    });

    it(`${stack}: the same lookups do run once their API exists (realistic outputs reach their consumers)`, async () => {
      const plan = await planOf(stack);
      const tokens = new Set(plan.invokes.map((i) => i.token));
      expect(tokens).to.include("gcp:bigquery/getDefaultServiceAccount:getDefaultServiceAccount");
      expect(tokens).to.include("gcp:storage/getProjectServiceAccount:getProjectServiceAccount");
    });
  }
});
