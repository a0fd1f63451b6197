/**
 * The ingestion on variants of the dev stack (config overrides, evaluated offline like the real stacks):
 * a custom network, a SQL Server source without a CA, a table without declared columns, an Oracle source
 * without a CA (rejected), and a cell without transactional sources (no ingestion at all).
 */
import { expect } from "chai";
import { deriveSizing, parseStackConfig } from "../../components/config";
import { evaluateStack, type Plan } from "../../tools/plan/evaluate";
import { ofType, planOf } from "../helpers/plan";

async function devWith(change: (sources: any, cells: any[]) => void): Promise<Plan> {
  const dev = await planOf("dev");
  const sources = JSON.parse(dev.config["lakehouse:sources"]);
  const cells = JSON.parse(dev.config["lakehouse:cells"]);
  change(sources, cells);
  return evaluateStack({ stack: "dev", configOverrides: { "lakehouse:sources": sources, "lakehouse:cells": cells } });
}

describe("transactional ingestion: config variants (dev stack)", function () {
  this.timeout(120_000);

  describe("custom network, SQL Server without CA, a table without columns", function () {
    let plan: Plan;
    before(async function () {
      plan = await devWith((sources, cells) => {
        cells[0].network = { vpcCidr: "172.20.0.0/16", sourceCidrs: ["10.10.0.0/16"] };
        sources.transactional.push({
          name: "stock",
          cell: "br",
          engine: "sqlserver",
          host: "stock-db.dev.acme.internal",
          port: 1433,
          database: "stock",
          credentials: "orders",
          tables: [{ schema: "dbo", name: "levels", keys: ["sku", "site"], partitionBy: ["month(taken_at)"] }],
        });
      });
    });

    it("builds the VPC from vpcCidr and opens DMS egress only to sourceCidrs", function () {
      expect(ofType(plan, "aws:ec2/vpc:Vpc").map((v) => v.inputs.cidrBlock)).to.deep.equal(["172.20.0.0/16"]);
      expect(ofType(plan, "aws:ec2/subnet:Subnet").map((s) => s.inputs.cidrBlock)).to.have.members([
        "172.20.0.0/18",
        "172.20.64.0/18",
        "172.20.128.0/18",
      ]);
      const dms = plan.resources.find(
        (r) => r.name === "br-ingestion-network-dms" && r.type === "aws:ec2/securityGroup:SecurityGroup",
      )!;
      const egress = dms.inputs.egress as any[];
      expect(egress.filter((e) => e.fromPort !== 443).map((e) => [e.fromPort, e.cidrBlocks])).to.have.deep.members([
        [1433, ["10.10.0.0/16"]],
        [3306, ["10.10.0.0/16"]],
      ]);
    });

    it("connects to SQL Server without a CA with 'require' and no certificate", function () {
      const endpoint = plan.resources.find((r) => r.name === "br-ingestion-stock-source")!;
      expect(endpoint.inputs).to.include({ engineName: "sqlserver", sslMode: "require" });
      expect(endpoint.inputs).not.to.have.property("certificateArn");
      expect(plan.resources.filter((r) => r.name === "br-ingestion-stock-ca")).to.have.length(0);
    });

    it("sizes each replication for two sources sharing the cell's volume", function () {
      const replications = ofType(plan, "aws:dms/replicationConfig:ReplicationConfig");
      expect(replications).to.have.length(2);
      const want = deriveSizing(parseStackConfig(plan.config, plan.stackFile).scale, 2).dmsCapacity;
      for (const r of replications) {
        expect((r.inputs.computeConfig as any).minCapacityUnits).to.equal(want.min);
        expect((r.inputs.computeConfig as any).maxCapacityUnits).to.equal(want.max);
      }
    });

    it("gives a table without columns its keys (string) and partition source (timestamptz) only", function () {
      const table = ofType(plan, "aws:glue/catalogTable:CatalogTable").find((t) => t.inputs.name === "stock_levels")!;
      const input = (table.inputs.openTableFormatInput as any).icebergInput.icebergTableInput;
      expect(input.schema.fields.map((f: any) => `${f.name}:${f.type}`)).to.deep.equal([
        "sku:string",
        "site:string",
        "taken_at:timestamptz",
        "_cdc_watermark:string",
        "_cdc_source_file:string",
      ]);
      expect(input.schema.identifierFieldIds).to.deep.equal([1, 2]);
      expect(input.partitionSpec.fields).to.deep.equal([
        { fieldId: 1000, name: "taken_at_month", sourceId: 3, transform: "month" },
      ]);
    });
  });

  it("runs in an existing VPC: no VPC or subnets created, endpoints, security groups and flow logs in that VPC", async function () {
    const existing = {
      vpcId: "vpc-0a1b2c3d4e5f60718",
      vpcCidr: "10.1.0.0/16",
      subnetIds: ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722"],
      routeTableIds: ["rtb-0a1b2c3d4e5f60733"],
    };
    // NoSQL extractions need the VPC this program creates (their Glue connection names a subnet's zone):
    // with an existing VPC, validation refuses them with the key, so this variant leaves them out.
    const refused = await devWith((_sources, cells) => {
      cells[0].network = existing;
    }).then(
      () => undefined,
      (e: unknown) => String(e),
    );
    expect(refused).to.include(
      "lakehouse:sources.cassandra[0]: cell 'br' runs in an existing VPC (lakehouse:cells[0].network.vpcId)",
    );
    const plan = await devWith((sources, cells) => {
      cells[0].network = existing;
      sources.cassandra = [];
      sources.elasticsearch = [];
    });
    expect(ofType(plan, "aws:ec2/vpc:Vpc").filter((v) => v.name.includes("ingestion"))).to.have.length(0);
    expect(ofType(plan, "aws:ec2/subnet:Subnet").filter((v) => v.name.includes("ingestion"))).to.have.length(0);
    const group = ofType(plan, "aws:dms/replicationSubnetGroup:ReplicationSubnetGroup")[0];
    expect(group.inputs.subnetIds).to.deep.equal(existing.subnetIds);
    for (const t of [
      "aws:ec2/vpcEndpoint:VpcEndpoint",
      "aws:ec2/securityGroup:SecurityGroup",
      "aws:ec2/flowLog:FlowLog",
    ]) {
      const rs = ofType(plan, t).filter((r) => r.name.includes("ingestion"));
      expect(rs.length, t).to.be.greaterThan(0);
      for (const r of rs) expect(r.inputs.vpcId, `${t} ${r.name}`).to.equal(existing.vpcId);
    }
    const s3 = ofType(plan, "aws:ec2/vpcEndpoint:VpcEndpoint").find((e) => e.inputs.vpcEndpointType === "Gateway")!;
    expect(s3.inputs.routeTableIds).to.deep.equal(existing.routeTableIds);
    const endpoints = plan.resources.find(
      (r) => r.name === "br-ingestion-network-endpoints" && r.type === "aws:ec2/securityGroup:SecurityGroup",
    )!;
    expect((endpoints.inputs.ingress as any[])[0].cidrBlocks).to.deep.equal([existing.vpcCidr]);
  });

  it("rejects an Oracle source without a CA, naming the source and the key", async function () {
    let error: unknown;
    try {
      await devWith((sources) => {
        sources.transactional[0].engine = "oracle";
        delete sources.transactional[0].caCertificatePem;
      });
    } catch (e) {
      error = e;
    }
    // Config validation names the key and the stack file: DMS verifies Oracle only against an Oracle wallet.
    expect(String(error)).to.match(
      /lakehouse:sources\.transactional\[0\]\.caCertificateWallet: is required for engine oracle/,
    );
    expect(String(error)).to.include("Pulumi.dev.yaml");
  });

  it("declares no ingestion at all for a cell without sources in its VPC", async function () {
    // The ingestion VPC is shared by every source that runs inside it (DMS, Kafka, Cassandra, Elasticsearch);
    // CSV feeds and APIs run outside it.
    const plan = await devWith((sources) => {
      sources.transactional = [];
      sources.kafka = [];
      sources.cassandra = [];
      sources.elasticsearch = [];
    });
    expect(plan.resources.filter((r) => r.urn.includes("lakehouse:aws:TransactionalIngestion"))).to.have.length(0);
    expect(ofType(plan, "aws:dms/replicationConfig:ReplicationConfig")).to.have.length(0);
    expect(ofType(plan, "aws:ec2/vpc:Vpc").filter((v) => String(v.name).includes("ingestion"))).to.have.length(0);
  });
});
