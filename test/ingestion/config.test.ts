/**
 * Config of the transactional sources: an unknown engine, a bad CA or network value is rejected with the
 * key and the stack file named; a valid `network` block is accepted.
 */
import { expect } from "chai";
import { parseStackConfig, StackConfigError } from "../../components/config";
import { planOf } from "../helpers/plan";

async function devConfigWith(change: (sources: any, cells: any) => void): Promise<Record<string, string>> {
  const plan = await planOf("dev");
  const raw = { ...plan.config };
  const sources = JSON.parse(raw["lakehouse:sources"]);
  const cells = JSON.parse(raw["lakehouse:cells"]);
  change(sources, cells);
  raw["lakehouse:sources"] = JSON.stringify(sources);
  raw["lakehouse:cells"] = JSON.stringify(cells);
  return raw;
}

function problemsOf(raw: Record<string, string>): string[] {
  try {
    parseStackConfig(raw, "Pulumi.dev.yaml");
  } catch (e) {
    expect(e).to.be.instanceOf(StackConfigError);
    expect((e as Error).message).to.include("Pulumi.dev.yaml");
    return [...(e as StackConfigError).problems];
  }
  throw new Error("config was accepted");
}

describe("transactional source config", function () {
  it("the repository's dev config parses", async function () {
    const plan = await planOf("dev");
    expect(parseStackConfig(plan.config, plan.stackFile).sources.transactional[0].caCertificatePem).to.match(
      /^-----BEGIN CERTIFICATE-----/,
    );
  });

  it("rejects an unknown source engine, naming the key and the allowed engines", async function () {
    const problems = problemsOf(await devConfigWith((s) => (s.transactional[0].engine = "postgres")));
    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(/sources\.transactional\[0\]\.engine/);
    expect(problems[0]).to.match(/oracle/);
    expect(problems[0]).to.match(/mysql/);
    expect(problems[0]).to.match(/sqlserver/);
  });

  it("rejects a CA that is not a PEM certificate", async function () {
    const problems = problemsOf(await devConfigWith((s) => (s.transactional[0].caCertificatePem = "not a pem")));
    expect(problems.join("\n")).to.match(/sources\.transactional\[0\]\.caCertificatePem: must be a PEM certificate/);
  });

  it("requires subnets, route tables and the CIDR with an existing VPC, and those only with one", async function () {
    const missing = problemsOf(await devConfigWith((_s, c) => (c[0].network = { vpcId: "vpc-0a1b2c3d4e5f60718" })));
    expect(missing.join("\n")).to.match(/cells\[0\]\.network\.subnetIds: is required with vpcId/);
    expect(missing.join("\n")).to.match(/cells\[0\]\.network\.routeTableIds: is required with vpcId/);
    expect(missing.join("\n")).to.match(/cells\[0\]\.network\.vpcCidr: is required with vpcId/);
    const orphan = problemsOf(
      await devConfigWith(
        (_s, c) => (c[0].network = { subnetIds: ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722"] }),
      ),
    );
    expect(orphan.join("\n")).to.match(/cells\[0\]\.network\.subnetIds: only with vpcId/);
  });

  it("accepts a network block and rejects a VPC CIDR outside /16-/24", async function () {
    const ok = await devConfigWith(
      (_s, c) => (c[0].network = { vpcCidr: "172.20.0.0/22", sourceCidrs: ["10.0.0.0/8"] }),
    );
    expect(parseStackConfig(ok, "Pulumi.dev.yaml").cells[0].network).to.deep.equal({
      vpcCidr: "172.20.0.0/22",
      sourceCidrs: ["10.0.0.0/8"],
    });
    const problems = problemsOf(await devConfigWith((_s, c) => (c[0].network = { vpcCidr: "10.0.0.0/8" })));
    expect(problems.join("\n")).to.match(/cells\[0\]\.network\.vpcCidr: must be an IPv4 CIDR from \/16 to \/24/);
  });
});
