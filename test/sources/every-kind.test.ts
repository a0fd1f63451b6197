/**
 * A source kind the config accepts always deploys something: for every kind of `lakehouse:sources` (read
 * from the schema, so a kind added there without a component fails here), dev and prod declare at least one
 * entry, and every declared entry has a component of its own in its cell with cloud resources under it.
 */
import { expect } from "chai";
import { sourcesSchema } from "../../components/config/schema";
import type { Plan, PlannedResource } from "../../tools/plan/types";
import { configOf, descendants, planOf } from "../helpers/plan";

const KINDS = Object.keys(sourcesSchema.shape) as (keyof typeof sourcesSchema.shape)[];

/** The component of a cell's source: `<cell>-ingestion-<source>` (databases) or `<cell>-sources-<source>`. */
function componentOf(plan: Plan, kind: string, cell: string, source: string): PlannedResource | undefined {
  const name = kind === "transactional" ? `${cell}-ingestion-${source}` : `${cell}-sources-${source}`;
  return plan.resources.find((r) => !r.custom && r.name === name);
}

for (const stack of ["dev", "prod"] as const) {
  describe(`every source kind deploys (${stack})`, function () {
    this.timeout(300_000);

    it("the schema's kinds are the six families of the case study", () => {
      expect(KINDS).to.have.members(["transactional", "kafka", "cassandra", "elasticsearch", "csvFeeds", "apis"]);
    });

    for (const kind of KINDS) {
      it(`${kind}: the stack declares it, and each entry has a component with cloud resources in its cell`, async () => {
        const config = configOf(stack);
        const entries = config.sources[kind] as readonly { readonly name: string; readonly cell: string }[];
        expect(entries, `${stack} declares no ${kind} source (each kind needs an example)`).to.not.be.empty;
        const plan = await planOf(stack);
        for (const { name, cell } of entries) {
          const component = componentOf(plan, kind, cell, name);
          expect(component, `${kind} '${name}' has no component in cell ${cell}`).to.not.equal(undefined);
          const resources = descendants(plan, component!.urn).filter((r) => r.custom);
          expect(resources, `${kind} '${name}' deploys no cloud resource`).to.not.be.empty;
          expect(new Set(resources.map((r) => r.cell)), `${kind} '${name}' leaves its cell`).to.deep.equal(
            new Set([cell]),
          );
        }
      });
    }
  });
}
