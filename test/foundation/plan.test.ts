import { expect } from "chai";
import { JURISDICTIONS } from "../../components/config";
import { STATEFUL_TYPES } from "../../components/conventions";
import { evaluateStack, listStacks, PlanConfigError, type Plan } from "../../tools/plan/evaluate";
import { configOf, planOf } from "../helpers/plan";

/**
 * Types whose only location is `global` and which hold no personal data: a PAM entitlement is an
 * access policy (its grants are audited in the project), not a store.
 */
const GLOBAL_TYPES = new Set(["gcp:privilegedaccessmanager/entitlement:entitlement"]);

describe("offline plan: every stack", () => {
  it("the repository has the dev and prod stacks", () => {
    expect(listStacks()).to.include.members(["dev", "prod"]);
  });

  for (const stack of listStacks()) {
    describe(`${stack}`, () => {
      let plan: Plan;
      before(async () => {
        plan = await planOf(stack);
      });

      it("evaluates offline and records a Stack, one Cell per configured cell, and their resources", () => {
        const cells = configOf(stack).cells.map((c) => c.name);
        expect(plan.resources.filter((r) => r.type === "pulumi:pulumi:Stack")).to.have.length(1);
        expect(plan.resources.filter((r) => r.type === "lakehouse:cell:Cell").map((r) => r.name)).to.deep.equal(cells);
        expect(plan.outputs.cellNames).to.deep.equal(cells);
      });

      it("no custom resource relies on a default (ambient) provider", () => {
        const offenders = plan.resources.filter(
          (r) => r.custom && !r.type.startsWith("pulumi:providers:") && (!r.provider || r.provider.isDefault),
        );
        expect(offenders.map((r) => `${r.type} ${r.name}`)).to.deep.equal([]);
        expect(plan.resources.filter((r) => r.type.startsWith("pulumi:providers:") && r.name.startsWith("default"))).to
          .be.empty;
      });

      it("every resource belongs to a cell, and lives in that cell's regions", () => {
        const config = configOf(stack);
        const problems: string[] = [];
        for (const r of plan.resources.filter((x) => x.custom)) {
          const cell = config.cells.find((c) => c.name === r.cell);
          if (!cell) {
            problems.push(`${r.type} ${r.name}: no cell`);
            continue;
          }
          const j = JURISDICTIONS[cell.jurisdiction];
          const pkg = r.type.split(":")[0];
          const region = typeof r.inputs.region === "string" ? r.inputs.region : r.provider?.region;
          if (r.type === "pulumi:providers:aws" && !j.awsRegions.includes(String(r.inputs.region))) {
            problems.push(`${r.name}: provider region ${String(r.inputs.region)}`);
          }
          if (r.type === "pulumi:providers:gcp" && !j.gcpRegions.includes(String(r.inputs.region))) {
            problems.push(`${r.name}: provider region ${String(r.inputs.region)}`);
          }
          if (pkg === "aws" && !j.awsRegions.includes(String(region))) {
            problems.push(`${r.type} ${r.name}: region ${String(region)}`);
          }
          if (pkg === "gcp") {
            if (!j.gcpRegions.includes(String(r.provider?.region)))
              problems.push(`${r.type} ${r.name}: provider region`);
            if (r.provider?.project !== cell.gcp.project)
              problems.push(`${r.type} ${r.name}: project ${r.provider?.project}`);
            const location = r.inputs.location ?? r.inputs.region;
            // BigQuery Omni locations (aws-<region>) are checked by the federation tests; a zone
            // (`<region>-a`) is inside its region; `global` only for types that hold no data.
            if (typeof location === "string" && !location.startsWith("aws-")) {
              const lower = location.toLowerCase();
              const inRegion = j.gcpRegions.some((g) => lower === g || lower.startsWith(`${g}-`));
              const globalOk = lower === "global" && GLOBAL_TYPES.has(r.type);
              if (!inRegion && !globalOk) problems.push(`${r.type} ${r.name}: location ${location}`);
            }
          }
        }
        expect(problems).to.deep.equal([]);
      });

      it("cell providers tag and label everything with cell, jurisdiction, environment and managed-by", () => {
        const config = configOf(stack);
        for (const cell of config.cells) {
          const expected = {
            cell: cell.name,
            jurisdiction: cell.jurisdiction,
            environment: config.environment,
            "managed-by": "pulumi",
          };
          const awsP = plan.resources.find((r) => r.type === "pulumi:providers:aws" && r.cell === cell.name)!;
          const gcpP = plan.resources.find((r) => r.type === "pulumi:providers:gcp" && r.cell === cell.name)!;
          expect(JSON.parse(String(awsP.inputs.defaultTags))).to.deep.equal({ tags: expected });
          expect(JSON.parse(String(awsP.inputs.allowedAccountIds))).to.deep.equal([cell.aws.accountId]);
          expect(JSON.parse(String(gcpP.inputs.defaultLabels))).to.deep.equal(expected);
          expect(gcpP.inputs.project).to.equal(cell.gcp.project);
        }
      });

      it(`stateful resources are ${stack === "prod" ? "" : "not "}protected, as lakehouse:protect says`, () => {
        const protect = configOf(stack).protect;
        const stateful = plan.resources.filter((r) => STATEFUL_TYPES.has(r.type));
        expect(stateful.length).to.be.greaterThan(10);
        for (const r of stateful) {
          expect(r.protect, `${r.type} ${r.name} protect`).to.equal(protect);
          expect(r.retainOnDelete, `${r.type} ${r.name} retainOnDelete`).to.equal(protect);
        }
        // Nothing else is protected: a protected IAM binding would only block legitimate changes.
        expect(plan.resources.filter((r) => r.protect && !STATEFUL_TYPES.has(r.type)).map((r) => r.type)).to.be.empty;
      });
    });
  }

  it("invalid config declares no resource and reports every problem", async () => {
    let error: unknown;
    try {
      await evaluateStack({
        stack: "dev",
        configOverrides: { "lakehouse:erasureSlaDays": 90, "lakehouse:retention": { raw: 0 } },
      });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(PlanConfigError);
    const problems = (error as PlanConfigError).problems;
    expect(problems).to.include("lakehouse:retention.raw: must be greater than 0");
    expect(problems).to.include("lakehouse:retention.curated: is required");
    expect(problems.some((p) => p.startsWith("lakehouse:erasureSlaDays: 90 days exceeds the LGPD limit"))).to.equal(
      true,
    );
    expect((error as Error).message).to.contain("Pulumi.dev.yaml");
  });
});
