/**
 * Issue 10, finding 8: zones come from a table of what exists per region (components/config/regions.ts);
 * config validation rejects a zone that does not exist, and the plan places zonal resources in real zones.
 */
import { expect } from "chai";
import { JURISDICTIONS, parseStackConfig, StackConfigError } from "../../components/config";
import {
  AWS_PRODUCTS,
  AWS_REGIONS,
  GCP_PRODUCTS,
  GCP_REGIONS,
  awsZoneSuffixes,
  gcpZone,
  parseGcpZone,
} from "../../components/config/regions";
import { readStackConfig } from "../../tools/plan/stack-config";
import { configOf, ofType, planOf } from "../helpers/plan";

const problemsOf = (raw: Record<string, string>): readonly string[] => {
  try {
    parseStackConfig(raw, "Pulumi.prod.yaml");
  } catch (e) {
    expect(e).to.be.instanceOf(StackConfigError);
    return (e as StackConfigError).problems;
  }
  return [];
};

describe("regions and zones table", () => {
  it("covers every region a jurisdiction allows, on both clouds", () => {
    for (const j of Object.values(JURISDICTIONS)) {
      for (const r of j.gcpRegions) expect(GCP_REGIONS, r).to.have.property(r);
      for (const r of j.awsRegions) expect(AWS_REGIONS, r).to.have.property(r);
    }
  });

  it("knows that europe-west1 has no zone a (b, c, d), and picks a zone that exists", () => {
    expect(GCP_REGIONS["europe-west1"].zones).to.deep.equal(["b", "c", "d"]);
    expect(gcpZone("europe-west1")).to.equal("europe-west1-b");
    expect(gcpZone("southamerica-east1")).to.equal("southamerica-east1-a");
    expect(() => gcpZone("europe-west1", "a")).to.throw(/europe-west1-a' does not exist/);
    expect(parseGcpZone("europe-west10-c")).to.deep.equal({ region: "europe-west10", suffix: "c" });
    expect(awsZoneSuffixes("sa-east-1")).to.deep.equal(["a", "b", "c"]);
  });

  it("rejects a Workbench zone suffix missing from a cell's region, naming the key, the cell and the stack file", () => {
    const raw = { ...readStackConfig("prod").config };
    raw["lakehouse:workbench"] = JSON.stringify({ ...JSON.parse(raw["lakehouse:workbench"] ?? "{}"), zoneSuffix: "a" });
    const problems = problemsOf(raw);
    const eu = configOf("prod").cells.findIndex((c) => c.gcp.region === "europe-west1");
    expect(problems).to.deep.equal([
      `lakehouse:workbench.zoneSuffix: zone 'europe-west1-a' does not exist (cell cells[${eu}]); europe-west1 has zones b, c, d`,
    ]);
    try {
      parseStackConfig(raw, "Pulumi.prod.yaml");
    } catch (e) {
      expect((e as Error).message).to.contain("Pulumi.prod.yaml");
    }
    // `c` exists in both prod regions.
    raw["lakehouse:workbench"] = JSON.stringify({ ...JSON.parse(raw["lakehouse:workbench"]), zoneSuffix: "c" });
    expect(problemsOf(raw)).to.deep.equal([]);
  });

  describe("product rows: listed only with evidence (header of components/config/regions.ts, checked 2026-12-03)", () => {
    const deployedGcp = ["southamerica-east1", "europe-west1"];
    const deployedAws = ["sa-east-1", "eu-west-1"];

    it("lists Cloud Run in every GCP region (Cloud Run locations), and nothing unverified outside the deployed regions", () => {
      for (const [region, facts] of Object.entries(GCP_REGIONS)) {
        expect(facts.products, region).to.include("cloudRun");
        expect(facts.unverified, region).to.not.include("cloudRun");
        if (!deployedGcp.includes(region)) expect(facts.products, region).to.deep.equal(["cloudRun"]);
      }
      for (const [region, facts] of Object.entries(AWS_REGIONS)) {
        if (!deployedAws.includes(region)) expect(facts.products, region).to.deep.equal([]);
      }
    });

    it("marks every product kept without a source as unverified, only in the regions the committed stacks deploy", () => {
      const rows = [...Object.entries(GCP_REGIONS), ...Object.entries(AWS_REGIONS)] as [
        string,
        { products: readonly string[]; unverified: readonly string[] },
      ][];
      for (const [region, facts] of rows) {
        for (const p of facts.unverified) expect(facts.products, `${region} ${p}`).to.include(p);
        const deployed = [...deployedGcp, ...deployedAws].includes(region);
        if (!deployed) expect(facts.unverified, region).to.deep.equal([]);
      }
      for (const r of deployedGcp) {
        expect(GCP_REGIONS[r].products, r).to.have.members([...GCP_PRODUCTS]);
        expect(GCP_REGIONS[r].unverified, r).to.have.members([
          "dataflow",
          "vertexWorkbench",
          "vertexFeatureOnlineStore",
        ]);
      }
      for (const r of deployedAws) {
        expect(AWS_REGIONS[r].products, r).to.have.members([...AWS_PRODUCTS]);
        expect(AWS_REGIONS[r].unverified, r).to.have.members([...AWS_PRODUCTS]);
      }
    });

    it("keeps dev and prod valid: their regions carry every required product", () => {
      expect(() => configOf("prod")).to.not.throw();
      expect(() => configOf("dev")).to.not.throw();
    });

    it("rejects an eu cell moved to a GCP region where the products are not verified, naming key, region and table", () => {
      const raw = { ...readStackConfig("prod").config };
      const cells = JSON.parse(raw["lakehouse:cells"]) as { gcp: { region: string } }[];
      const eu = cells.findIndex((c) => c.gcp.region === "europe-west1");
      cells[eu] = { ...cells[eu], gcp: { ...cells[eu].gcp, region: "europe-west10" } };
      raw["lakehouse:cells"] = JSON.stringify(cells);
      expect(problemsOf(raw)).to.include(
        `lakehouse:cells[${eu}].gcp.region: dataflow, vertexWorkbench, vertexFeatureOnlineStore not available or not verified ` +
          `in 'europe-west10' (components/config/regions.ts)`,
      );
      try {
        parseStackConfig(raw, "Pulumi.prod.yaml");
        expect.fail("expected a StackConfigError");
      } catch (e) {
        expect((e as Error).message).to.contain("Pulumi.prod.yaml");
      }
    });

    it("rejects an eu cell moved to an AWS region where DMS Serverless and Glue 5.0 are not verified", () => {
      const raw = { ...readStackConfig("prod").config };
      const cells = JSON.parse(raw["lakehouse:cells"]) as { aws: { region: string } }[];
      const eu = cells.findIndex((c) => c.aws.region === "eu-west-1");
      cells[eu] = { ...cells[eu], aws: { ...cells[eu].aws, region: "eu-south-2" } };
      raw["lakehouse:cells"] = JSON.stringify(cells);
      expect(problemsOf(raw)).to.include(
        `lakehouse:cells[${eu}].aws.region: dmsServerless, glue5 not available or not verified in 'eu-south-2' ` +
          `(components/config/regions.ts)`,
      );
    });
  });

  describe("on the prod plan", () => {
    it("places every Workbench instance in a zone of its cell's region that exists", async () => {
      const plan = await planOf("prod");
      const instances = ofType(plan, "gcp:workbench/instance:Instance");
      expect(instances.length).to.be.greaterThan(0);
      for (const i of instances) {
        const zone = parseGcpZone(String(i.inputs.location));
        expect(zone, String(i.inputs.location)).to.not.equal(undefined);
        expect(GCP_REGIONS[zone!.region].zones, String(i.inputs.location)).to.include(zone!.suffix);
      }
      expect(instances.map((i) => i.inputs.location)).to.include("europe-west1-b");
    });

    it("puts the ingestion subnets in the AZs the table lists for the region", async () => {
      const plan = await planOf("prod");
      const subnets = ofType(plan, "aws:ec2/subnet:Subnet");
      expect(subnets.length).to.be.greaterThan(0);
      for (const s of subnets) {
        const az = String(s.inputs.availabilityZone);
        const region = s.provider?.region ?? "";
        expect(
          awsZoneSuffixes(region).map((z) => `${region}${z}`),
          s.name,
        ).to.include(az);
      }
    });
  });
});
