/**
 * Resources that moved keep their identity: the engine receives an alias naming where each was before,
 * so a `pulumi up` over an existing stack moves it instead of replacing it (Pulumi docs, "Resource
 * options: aliases"). Read from the aliases the plan records as the engine receives them.
 */
import { expect } from "chai";
import type { Plan, PlannedResource } from "../../tools/plan/types";
import { planOf } from "../helpers/plan";

const ROLE_COMPONENTS = ["lakehouse:aws:ServiceRole", "lakehouse:aws:TableOptimizerRole"];

const parentUrns = (r: PlannedResource): string[] =>
  (r.aliases ?? []).flatMap((a) => ("parentUrn" in a && a.parentUrn !== undefined ? [a.parentUrn] : []));

describe("offline plan: moved resources keep their identity through aliases", function () {
  this.timeout(120_000);

  for (const stack of ["dev", "prod"]) {
    describe(stack, () => {
      let plan: Plan;
      let byUrn: Map<string, PlannedResource>;
      before(async () => {
        plan = await planOf(stack);
        byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
      });

      it("each resource of an IAM role component names the component that used to hold it as its former parent", () => {
        const isRole = (r: PlannedResource | undefined) => r !== undefined && ROLE_COMPONENTS.includes(r.type);
        // The role components are new; what they hold was declared directly under the nearest ancestor
        // that is not one (a TableOptimizerRole holds a ServiceRole: both are skipped).
        const formerParent = (r: PlannedResource): string | undefined => {
          let p = r.parent;
          while (p !== undefined && isRole(byUrn.get(p))) p = byUrn.get(p)!.parent;
          return p;
        };
        const held = plan.resources.filter((r) => r.custom && isRole(byUrn.get(r.parent ?? "")));
        expect(held.length).to.be.greaterThan(20);
        for (const r of held) expect(parentUrns(r), `${r.type} ${r.name}`).to.deep.equal([formerParent(r)]);
      });

      it("the cell's split components name the component they came out of", () => {
        const cells = plan.resources.filter((r) => r.type === "lakehouse:cell:Cell");
        expect(cells.length).to.be.greaterThan(0);
        for (const cell of cells) {
          const under = (type: string, name: string) =>
            plan.resources.find((r) => r.parent === cell.urn && r.type === type && r.name === name);
          const former = (type: string, name: string) => `${cell.urn.replace(/::[^:]+$/, "")}$${type}::${name}`;
          for (const [type, name] of [
            ["lakehouse:aws:IngestionAlerts", `${cell.name}-ingestion-alerts`],
            ["lakehouse:aws:IngestionNetwork", `${cell.name}-ingestion-network`],
          ]) {
            const moved = under(type, name);
            expect(moved, name).to.not.equal(undefined);
            expect(parentUrns(moved!)).to.deep.equal([
              former("lakehouse:aws:TransactionalIngestion", `${cell.name}-ingestion`),
            ]);
          }
          const apis = under("lakehouse:gcp:ProjectServices", `${cell.name}-gcp-apis`);
          expect(apis).to.not.equal(undefined);
          expect(parentUrns(apis!)).to.deep.equal([former("lakehouse:gcp:StorageCore", `${cell.name}-gcp`)]);
        }
      });

      it("every former parent is a URN of this stack and project", () => {
        const prefix = `urn:pulumi:${plan.stack}::${plan.project}::`;
        const all = plan.resources.flatMap(parentUrns);
        expect(all.length).to.be.greaterThan(0);
        expect(all.filter((u) => !u.startsWith(prefix))).to.deep.equal([]);
        // Former parents still declared are components (a custom resource is never a parent here).
        expect(all.filter((u) => byUrn.get(u)?.custom === true)).to.deep.equal([]);
      });
    });
  }
});
