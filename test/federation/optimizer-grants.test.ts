/**
 * Glue table optimizers run as their role from the moment they exist; with Lake Formation governing the
 * catalog, that role needs its Lake Formation grant on the table first (Glue user guide, "Table
 * optimization prerequisites"). Every optimizer of every stack waits for a grant to its role that covers
 * its table (the table itself, or every table of its database).
 */
import { expect } from "chai";
import type { PlannedResource } from "../../tools/plan/types";
import { ofType, planOf, waitsFor } from "../helpers/plan";

const OPTIMIZER = "aws:glue/catalogTableOptimizer:CatalogTableOptimizer";
const LF = "aws:lakeformation/permissions:Permissions";

const covers = (grant: PlannedResource, optimizer: PlannedResource): boolean => {
  const t = grant.inputs.table as { databaseName?: string; name?: string; wildcard?: boolean } | undefined;
  return (
    t !== undefined &&
    t.databaseName === optimizer.inputs.databaseName &&
    (t.wildcard === true || t.name === optimizer.inputs.tableName)
  );
};

describe("Glue table optimizers wait for their role's Lake Formation grant", function () {
  this.timeout(300_000);

  for (const stack of ["dev", "prod"]) {
    it(`${stack}: every optimizer depends on a grant to its role covering its table`, async () => {
      const plan = await planOf(stack);
      const optimizers = ofType(plan, OPTIMIZER);
      expect(optimizers.length).to.be.greaterThan(3);
      const early: string[] = [];
      for (const o of optimizers) {
        const role = (o.inputs.configuration as { roleArn?: string }).roleArn;
        const grants = ofType(plan, LF).filter((g) => g.inputs.principal === role && covers(g, o));
        expect(grants.length, `${o.name}: a grant to ${role}`).to.be.greaterThan(0);
        const deps = waitsFor(plan, o);
        if (!grants.some((g) => deps.has(g.urn))) early.push(`${o.name} (${role})`);
      }
      expect(early).to.deep.equal([]);
    });
  }
});
