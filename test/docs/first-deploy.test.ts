/**
 * docs/first-deploy.md stays in step with the program: every GCP API a stack enables has a deployer
 * role in the runbook's table, every stack output the runbook's checks name exists, and every file the
 * runbook points at exists.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { SERVICE_TYPE } from "../../components/gcp/api-requirements";
import { PROJECT_ROOT } from "../../components/project-root";
import { planOf } from "../helpers/plan";

const runbook = fs.readFileSync(path.join(PROJECT_ROOT, "docs", "first-deploy.md"), "utf8");

/** The first column of the GCP deployer table: the APIs it gives a role for. */
const apisWithRoles = (): Set<string> => {
  const table = runbook.slice(runbook.indexOf("| API | predefined role on the project |"));
  const rows = table.split("\n").filter((l) => l.startsWith("| `"));
  return new Set(
    rows.flatMap((r) => [...r.split("|")[1].matchAll(/`([a-z0-9.]+\.googleapis\.com)`/g)].map((m) => m[1])),
  );
};

describe("docs/first-deploy.md", function () {
  this.timeout(300_000);

  for (const stack of ["dev", "prod"]) {
    it(`names a deployer role for every API the ${stack} plan enables`, async () => {
      const plan = await planOf(stack);
      const enabled = new Set(
        plan.resources.filter((r) => r.type === SERVICE_TYPE).map((r) => String(r.inputs.service)),
      );
      expect(enabled.size).to.be.greaterThan(10);
      const named = apisWithRoles();
      expect([...enabled].filter((api) => !named.has(api)).sort()).to.deep.equal([]);
      // The two APIs enabled by hand (step 1.3) are in the table too.
      expect(named.has("serviceusage.googleapis.com") && named.has("cloudresourcemanager.googleapis.com")).to.equal(
        true,
      );
    });

    it(`every stack output the ${stack} checks name exists`, async () => {
      const plan = await planOf(stack);
      const checks = runbook.slice(runbook.indexOf("## 5. Check each layer"));
      // The table's "output" column (`name` or `name.<cell>.key`).
      const outputCells = checks
        .split("\n")
        .filter((l) => l.startsWith("| ") && !l.startsWith("| layer"))
        .map((l) => l.split("|")[2] ?? "");
      const named = outputCells.flatMap((c) => [...c.matchAll(/`([a-zA-Z]+)[`.]/g)].map((m) => m[1]));
      expect(named.length).to.be.greaterThan(5);
      expect(named.filter((n) => !(n in plan.outputs))).to.deep.equal([]);
    });
  }

  it("every repository file it points at exists", () => {
    const files = [...runbook.matchAll(/`((?:components|test|tools|policy|functions|docs)\/[^`\s]+\.(?:ts|md))`/g)].map(
      (m) => m[1],
    );
    const links = [...runbook.matchAll(/\]\(([^)#]+)(?:#[^)]*)?\)/g)].map((m) => path.join("docs", m[1]));
    expect(files.length + links.length).to.be.greaterThan(5);
    expect([...files, ...links].filter((f) => !fs.existsSync(path.join(PROJECT_ROOT, f)))).to.deep.equal([]);
  });
});
