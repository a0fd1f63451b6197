/**
 * Issue 10, finding 5: Lake Formation. `PutDataLakeSettings` replaces the admin list (Lake Formation API
 * reference), and only an administrator (or a holder of the grant option) may grant, so the deployer of
 * each cell must be in the list and every grant must wait for the settings; a grant on one table must
 * wait for that table (a grant naming a table that does not exist yet fails).
 * Checked on the recorded dependency graph of the prod and dev plans.
 */
import { expect } from "chai";
import type { Plan, PlannedResource } from "../../tools/plan/evaluate";
import { configOf, planOf } from "../helpers/plan";

const SETTINGS = "aws:lakeformation/dataLakeSettings:DataLakeSettings";
const GRANT_TYPES = [
  "aws:lakeformation/permissions:Permissions",
  "aws:lakeformation/lfTag:LfTag",
  "aws:lakeformation/resourceLfTags:ResourceLfTags",
];
const GLUE_TABLE = "aws:glue/catalogTable:CatalogTable";

/**
 * URNs `from` waits for, transitively: its recorded dependencies (explicit `dependsOn` and those implied
 * by inputs), theirs, and so on; a component dependency means waiting for all of its children.
 */
export function waitsFor(plan: Plan, from: PlannedResource): Set<string> {
  const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
  const children = new Map<string, string[]>();
  for (const r of plan.resources) if (r.parent) children.set(r.parent, [...(children.get(r.parent) ?? []), r.urn]);
  const seen = new Set<string>();
  const stack = [...from.dependencies];
  while (stack.length > 0) {
    const urn = stack.pop()!;
    if (seen.has(urn)) continue;
    seen.add(urn);
    const r = byUrn.get(urn);
    if (!r) continue;
    stack.push(...r.dependencies);
    if (!r.custom) stack.push(...(children.get(urn) ?? []));
  }
  return seen;
}

interface TableRef {
  readonly databaseName?: string;
  readonly name?: string;
  readonly wildcard?: boolean;
}
/** The single table a grant names (`table` without wildcard, or `tableWithColumns`), if any. */
const namedTable = (r: PlannedResource): TableRef | undefined => {
  const t = (r.inputs.tableWithColumns ?? r.inputs.table) as TableRef | undefined;
  return t && !t.wildcard && t.name ? t : undefined;
};

for (const stack of ["prod", "dev"]) {
  describe(`Lake Formation order, ${stack} (issue 10, finding 5)`, () => {
    const config = configOf(stack);
    for (const cell of config.cells) {
      describe(`cell ${cell.name}`, () => {
        const settingsOf = (plan: Plan): PlannedResource => {
          const s = plan.resources.filter((r) => r.type === SETTINGS && r.cell === cell.name);
          expect(s, "one DataLakeSettings per cell").to.have.length(1);
          return s[0];
        };

        it("makes the cell's deploy role a data lake administrator", async () => {
          const plan = await planOf(stack);
          const admins = settingsOf(plan).inputs.admins as string[];
          expect(admins).to.include(cell.aws.deployRoleArn);
          // Everyone in the list is a principal of the cell's own account.
          for (const a of admins) expect(a).to.match(new RegExp(`^arn:aws:iam::${cell.aws.accountId}:`));
        });

        it("has every grant, LF-tag and tag assignment wait for the settings", async () => {
          const plan = await planOf(stack);
          const settings = settingsOf(plan);
          const grants = plan.resources.filter((r) => GRANT_TYPES.includes(r.type) && r.cell === cell.name);
          expect(grants.length, "grants in the cell").to.be.greaterThan(5);
          const late = grants.filter((g) => !waitsFor(plan, g).has(settings.urn)).map((g) => g.name);
          expect(late, "grants that may run before the deployer is an admin").to.deep.equal([]);
        });

        it("has every grant on one table wait for that Glue table", async () => {
          const plan = await planOf(stack);
          const tables = plan.resources.filter((r) => r.type === GLUE_TABLE && r.cell === cell.name);
          const grants = plan.resources.filter(
            (r) => r.type === GRANT_TYPES[0] && r.cell === cell.name && namedTable(r) !== undefined,
          );
          expect(grants.length, "table-level grants in the cell").to.be.greaterThan(0);
          for (const g of grants) {
            const ref = namedTable(g)!;
            const table = tables.find((t) => t.inputs.name === ref.name && t.inputs.databaseName === ref.databaseName);
            expect(table, `${g.name}: Glue table ${ref.databaseName}.${ref.name} is declared`).to.not.equal(undefined);
            expect(waitsFor(plan, g).has(table!.urn), `${g.name} waits for ${ref.name}`).to.equal(true);
          }
        });
      });
    }
  });
}
