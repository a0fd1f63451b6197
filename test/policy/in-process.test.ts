/**
 * The rule cases call the pack's policies in process (tools/policy/in-process.ts, ADR 0016); the engine
 * runs the pack served over gRPC. These cases hold the two to the same answers, field for field, on
 * requests that exercise every path the rule cases take: every dev-baseline case's mutation applied at
 * once (one request breaking every rule they break), the prod cases likewise, a first preview (unknowns,
 * "checked when known" advisories), and a pack config that changes levels and settings.
 */
import { expect } from "chai";
import type { EnforcementLevel } from "@pulumi/policy";
import type { SettingsOverrides } from "../../policy/config";
import { gatePackConfig, type GateDiagnostic } from "../../tools/policy/gate";
import { deepFreeze, inProcessAnalyzer } from "../../tools/policy/in-process";
import { providerIndex, type ResourceInput } from "../../tools/policy/requests";
import { firstPreviewOf, planOf } from "../helpers/plan";
import { CASES, type Case } from "./cases";
import { closeSession, gate, planBaseline } from "./helpers";

/** Every field the engine receives, one line per diagnostic, sorted. */
const everything = (ds: readonly GateDiagnostic[]): string[] =>
  ds
    .map((d) =>
      JSON.stringify([
        d.stage,
        d.policyName,
        d.policyPackName,
        d.policyPackVersion,
        d.enforcementLevel,
        d.severity,
        d.urn,
        d.description,
        d.message,
      ]),
    )
    .sort();

type Cases = typeof CASES;

/**
 * The mutations of `cases` on `on`'s baseline, one after another. A case whose resource an earlier case
 * removed, or that adds a resource an earlier case added, waits for the next request (`left`).
 */
function combined(
  baseline: readonly ResourceInput[],
  cases: Cases,
): { resources: ResourceInput[]; applied: Cases; left: Cases } {
  let resources = [...baseline];
  const applied: Case[] = [];
  const left: Case[] = [];
  for (const c of cases) {
    let next: ResourceInput[];
    try {
      next = c[1](resources);
    } catch {
      left.push(c);
      continue;
    }
    if (new Set(next.map((r) => r.urn)).size !== next.length) {
      left.push(c);
      continue;
    }
    resources = next;
    applied.push(c);
  }
  return { resources, applied, left };
}

const policiesOf = (cases: Cases): string[] => [...new Set(cases.flatMap(([, , e]) => e.map((x) => x.split(":")[0])))];

async function both(
  resources: readonly ResourceInput[],
  opts: { settings?: SettingsOverrides; enforcementLevels?: Record<string, EnforcementLevel> } = {},
): Promise<{ served: GateDiagnostic[]; inProcess: GateDiagnostic[] }> {
  const served = await gate(resources, { ...opts, served: true });
  const inProcess = await gate(resources, opts);
  return { served: [...served.diagnostics], inProcess: [...inProcess.diagnostics] };
}

describe("policy pack: called in process, it answers as the served pack does", function () {
  this.timeout(300_000);
  after(closeSession);

  for (const on of ["dev", "prod"] as const) {
    it(`on requests carrying every ${on} case's mutation at once, until each broken policy has reported`, async () => {
      const baseline = on === "dev" ? await planBaseline() : (await planOf("prod")).resources;
      let todo: Cases = CASES.filter((c) => (c[3] ?? "dev") === on);
      expect(todo.length).to.be.greaterThan(0);
      for (let round = 1; todo.length > 0; round++) {
        expect(round, "requests needed").to.be.lessThanOrEqual(4);
        const { resources, applied, left } = combined(baseline, todo);
        const { served, inProcess } = await both(resources);
        expect(everything(inProcess)).to.deep.equal(everything(served));
        // A later mutation may mask an earlier one's message on the same resource: a case whose
        // policies did not all report goes again in the next request, with fewer neighbours.
        const reported = new Set(served.map((d) => d.policyName));
        const masked = applied.filter((c) => policiesOf([c]).some((p) => !reported.has(p)));
        expect(masked.length + left.length, "each request settles some cases").to.be.lessThan(todo.length);
        todo = [...masked, ...left];
      }
    });
  }

  it("on a first preview: the same advisories for every unknown", async () => {
    const { served, inProcess } = await both((await firstPreviewOf("dev")).resources);
    expect(everything(inProcess)).to.deep.equal(everything(served));
    expect(served.filter((d) => d.enforcementLevel === "advisory").length).to.be.greaterThan(10);
  });

  it("answers a resource again when its provider or the pack config changes (analyze answers are remembered)", async () => {
    const baseline = await planBaseline();
    const bucket = baseline.find((r) => r.type === "aws:s3/bucket:Bucket" && r.name === "br-aws-landing");
    const urn = bucket?.provider?.urn ?? "";
    const provider = providerIndex(baseline).get(urn);
    expect(provider?.inputs.region, "the bucket's region is its provider's").to.equal("sa-east-1");
    const session = inProcessAnalyzer();
    const residency = async (providers: ReadonlyMap<string, ResourceInput>): Promise<string[]> =>
      (await session.analyze(bucket!, providers))
        .filter((d) => d.policyName === "resource-residency")
        .map((d) => d.urn);
    await session.configure(gatePackConfig());
    expect(await residency(providerIndex(baseline))).to.deep.equal([]);
    // The same bucket object under a provider moved to us-east-1: answered anew, not from memory.
    const moved = deepFreeze({ ...provider!, inputs: { ...provider!.inputs, region: "us-east-1" } });
    expect(await residency(new Map([[urn, moved]]))).to.have.length(1);
    // Still under the moved provider: a config that disables the policy silences it, the default brings it back.
    await session.configure(gatePackConfig({ enforcementLevels: { "resource-residency": "disabled" } }));
    expect(await residency(new Map([[urn, moved]]))).to.deep.equal([]);
    await session.configure(gatePackConfig());
    expect(await residency(new Map([[urn, moved]]))).to.have.length(1);
  });

  it("with a pack config that moves levels and bounds", async () => {
    const { resources } = combined(
      await planBaseline(),
      CASES.filter((c) => c[3] === undefined),
    );
    const { served, inProcess } = await both(resources, {
      settings: { jurisdictions: { br: { awsRegions: ["eu-west-1"], auditFloorDays: 3650 } } },
      enforcementLevels: { "kms-key-rotation": "advisory", "s3-bucket-cmk-encryption": "disabled" },
    });
    expect(everything(inProcess)).to.deep.equal(everything(served));
    expect(served.some((d) => d.policyName === "kms-key-rotation" && d.enforcementLevel === "advisory")).to.equal(true);
    expect(served.some((d) => d.policyName === "s3-bucket-cmk-encryption")).to.equal(false);
  });
});
