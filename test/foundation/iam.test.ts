/**
 * IAM once (issue 12, item 3): the statement builders produce exactly the JSON the hand-written statements
 * did (key order included), `ServiceRole` hands out an ARN only once its policies exist, its children keep
 * their URN history through aliases, and the table-optimizer role grants what both of its users granted.
 * Components run in-process under Pulumi mocks; the last block reads the recorded dev plan.
 */
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  allow,
  glueTables,
  lakeFormationDataAccess,
  listPrefixes,
  policyDocument,
  putMetricData,
  readObjects,
  readSecret,
  readWriteObjects,
  useKey,
  writeLogsUnder,
} from "../../components/aws/iam/statements";
import { ServiceRole } from "../../components/aws/iam/service-role";
import { TableOptimizerRole } from "../../components/aws/iam/table-optimizer-role";
import type { PlannedResource } from "../../tools/plan/evaluate";
import { planOf } from "../helpers/plan";

const ACCOUNT = "111122223333";
const REGION = "sa-east-1";
const created: pulumi.runtime.MockResourceArgs[] = [];

/** The value of an Output, under mocks. */
const valueOf = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((resolve) => o.apply((v) => resolve(v)));
/** Every resource an Output depends on (what a consumer's `dependencies` would list). */
const resourcesOf = (o: pulumi.Output<unknown>): Promise<Set<pulumi.Resource>> =>
  (o as unknown as { allResources: () => Promise<Set<pulumi.Resource>> }).allResources();
/** The alias URNs a resource registers with (collapsed by the SDK from `aliases`). */
const aliasesOf = (r: pulumi.Resource): Promise<string[]> =>
  Promise.all(((r as unknown as { __aliases: pulumi.Output<string>[] }).__aliases ?? []).map((a) => valueOf(a)));

class Holder extends pulumi.ComponentResource {
  constructor(name: string) {
    super("lakehouse:test:Holder", name, {}, {});
    this.registerOutputs({});
  }
}

describe("IAM statement builders", () => {
  it("keep the key order Sid, Effect, Action, Resource, Condition", () => {
    expect(JSON.stringify(allow("S", ["a:B"], "r", { StringEquals: { k: "v" } }))).to.equal(
      '{"Sid":"S","Effect":"Allow","Action":["a:B"],"Resource":"r","Condition":{"StringEquals":{"k":"v"}}}',
    );
    expect(JSON.stringify(allow("S", "a:B", ["r1", "r2"]))).to.equal(
      '{"Sid":"S","Effect":"Allow","Action":"a:B","Resource":["r1","r2"]}',
    );
  });

  it("scope a bucket list to prefixes and metrics to a namespace", () => {
    expect(listPrefixes("L", "arn:aws:s3:::b", ["cdc/", "_tmp/x/"])).to.deep.equal({
      Sid: "L",
      Effect: "Allow",
      Action: ["s3:ListBucket"],
      Resource: "arn:aws:s3:::b",
      Condition: { StringLike: { "s3:prefix": ["cdc/*", "_tmp/x/*"] } },
    });
    expect(putMetricData("M", "Glue")).to.deep.equal({
      Sid: "M",
      Effect: "Allow",
      Action: ["cloudwatch:PutMetricData"],
      Resource: "*",
      Condition: { StringEquals: { "cloudwatch:namespace": "Glue" } },
    });
    expect(lakeFormationDataAccess()).to.deep.equal({
      Sid: "LakeFormationDataAccess",
      Effect: "Allow",
      Action: ["lakeformation:GetDataAccess"],
      Resource: "*",
    });
    expect(useKey("K", "key", ["kms:Decrypt"], "secretsmanager.sa-east-1.amazonaws.com").Condition).to.deep.equal({
      StringEquals: { "kms:ViaService": "secretsmanager.sa-east-1.amazonaws.com" },
    });
    expect(useKey("K", "key")).to.not.have.property("Condition");
    expect(writeLogsUnder("W", { region: REGION, accountId: ACCOUNT }, ["/aws-glue/"]).Resource).to.deep.equal([
      `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws-glue/*`,
    ]);
    expect(readSecret("R", "arn:s").Action).to.deep.equal(["secretsmanager:GetSecretValue"]);
  });
});

describe("IAM is written once", () => {
  it("no AWS component outside components/aws/iam/ writes a statement or a role by hand", () => {
    const root = path.join(__dirname, "../../components/aws");
    const files = (fs.readdirSync(root, { recursive: true }) as string[])
      .filter((f) => f.endsWith(".ts") && !f.startsWith(`iam${path.sep}`) && f !== "service-trust.ts")
      .map((f) => path.join(root, f));
    expect(files.length).to.be.greaterThan(5);
    for (const f of files) {
      const text = fs.readFileSync(f, "utf8");
      expect(text, f).not.to.match(/\bEffect:|new aws\.iam\.(Role|RolePolicy|RolePolicyAttachment)\(/);
    }
  });
});

describe("IAM components (Pulumi mocks)", () => {
  before(async () => {
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          created.push(args);
          const name = String(args.inputs.name ?? args.name);
          if (args.type === "aws:iam/role:Role") {
            return { id: name, state: { ...args.inputs, name, arn: `arn:aws:iam::${ACCOUNT}:role/${name}` } };
          }
          return { id: `${args.name}-id`, state: args.inputs };
        },
        call: (args) => args.inputs,
      },
      "lakehouse",
      "test",
      false,
    );
  });

  it("renders object, key and catalog statements as one document", async () => {
    const doc = await valueOf(
      policyDocument([
        readObjects("Read", "arn:aws:s3:::raw", "cdc/"),
        readWriteObjects("Write", pulumi.output("arn:aws:s3:::wh"), "curated/"),
        glueTables("Tables", ["glue:GetTable"], { region: REGION, accountId: ACCOUNT }, pulumi.output("db")),
      ]),
    );
    expect(JSON.parse(doc)).to.deep.equal({
      Version: "2012-10-17",
      Statement: [
        { Sid: "Read", Effect: "Allow", Action: ["s3:GetObject"], Resource: "arn:aws:s3:::raw/cdc/*" },
        {
          Sid: "Write",
          Effect: "Allow",
          Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
          Resource: "arn:aws:s3:::wh/curated/*",
        },
        {
          Sid: "Tables",
          Effect: "Allow",
          Action: ["glue:GetTable"],
          Resource: [
            `arn:aws:glue:${REGION}:${ACCOUNT}:catalog`,
            `arn:aws:glue:${REGION}:${ACCOUNT}:database/db`,
            `arn:aws:glue:${REGION}:${ACCOUNT}:table/db/*`,
          ],
        },
      ],
    });
  });

  it("ServiceRole: a role trusted by one service for this account, its ARN waiting for policy and attachments", async () => {
    const holder = new Holder("h1");
    const role = new ServiceRole(
      "h1-job",
      {
        service: "glue.amazonaws.com",
        accountId: ACCOUNT,
        description: "test",
        statements: [readObjects("Read", "arn:aws:s3:::raw", "cdc/")],
        managedPolicyArns: ["arn:aws:iam::aws:policy/A", "arn:aws:iam::aws:policy/B"],
      },
      { parent: holder },
    );
    expect(await valueOf(role.arn)).to.equal(`arn:aws:iam::${ACCOUNT}:role/h1-job`);
    // A consumer of `arn` (or `name`) depends on the policy and both attachments, not on the bare role only.
    for (const out of [role.arn, role.name]) {
      const deps = await resourcesOf(out);
      expect(deps.has(role.role)).to.equal(true);
      expect(deps.has(role.policy!)).to.equal(true);
      for (const a of role.attachments) expect(deps.has(a)).to.equal(true);
    }
    // The role's own `arn` does not: that is the race the component closes.
    expect((await resourcesOf(role.role.arn)).has(role.policy!)).to.equal(false);

    const trust = JSON.parse(await valueOf(role.role.assumeRolePolicy));
    expect(trust.Statement).to.deep.equal([
      {
        Effect: "Allow",
        Principal: { Service: "glue.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } },
      },
    ]);
    const names = created.filter((c) => c.name.startsWith("h1-job")).map((c) => `${c.type}::${c.name}`);
    expect(names).to.have.members([
      "lakehouse:aws:ServiceRole::h1-job",
      "aws:iam/role:Role::h1-job",
      "aws:iam/rolePolicy:RolePolicy::h1-job",
      "aws:iam/rolePolicyAttachment:RolePolicyAttachment::h1-job",
      "aws:iam/rolePolicyAttachment:RolePolicyAttachment::h1-job-1",
    ]);
  });

  it("ServiceRole: each child is aliased to the URN it had directly under the former parent", async () => {
    const holder = new Holder("h2");
    const role = new ServiceRole(
      "h2-role",
      {
        service: "dms.amazonaws.com",
        accountId: ACCOUNT,
        description: "test",
        roleName: "dms-vpc-role",
        managedPolicyArns: ["arn:aws:iam::aws:policy/service-role/AmazonDMSVPCManagementRole"],
        sourceCondition: "none",
      },
      { parent: holder },
    );
    const holderUrn = await valueOf(holder.urn);
    const old = (type: string) => `${holderUrn.replace(/::h2$/, "")}$${type}::h2-role`;
    expect(await aliasesOf(role.role)).to.deep.equal([old("aws:iam/role:Role")]);
    expect(await aliasesOf(role.attachments[0])).to.deep.equal([
      old("aws:iam/rolePolicyAttachment:RolePolicyAttachment"),
    ]);
    expect(role.policy).to.equal(undefined);
    // The account-wide DMS role: no source condition (see transactional-ingestion.ts for why).
    expect(JSON.parse(await valueOf(role.role.assumeRolePolicy)).Statement[0]).to.not.have.property("Condition");
    expect(await valueOf(role.role.name)).to.equal("dms-vpc-role");
  });

  it("TableOptimizerRole: the optimizers' grants, the ARN waiting for the Lake Formation grant, aliases to the former parent", async () => {
    const holder = new Holder("h3");
    const opt = new TableOptimizerRole(
      "h3-optimizer",
      {
        accountId: ACCOUNT,
        region: REGION,
        description: "test",
        warehouseBucketArn: "arn:aws:s3:::wh",
        prefix: "marts/",
        lakeKeyArn: "arn:key",
        databaseName: "db",
        tables: ["orders_daily"],
        sidLabel: "Mart",
        lakeFormationCatalogId: ACCOUNT,
      },
      { parent: holder },
    );
    const policy = JSON.parse(await valueOf(opt.role.policy!.policy));
    expect(policy.Statement.map((s: { Sid: string }) => s.Sid)).to.deep.equal([
      "MartFiles",
      "ListMart",
      "LakeKey",
      "MartTables",
      "LakeFormationDataAccess",
      "OptimizerLogs",
    ]);
    expect(policy.Statement[3].Resource).to.deep.equal([
      `arn:aws:glue:${REGION}:${ACCOUNT}:catalog`,
      `arn:aws:glue:${REGION}:${ACCOUNT}:database/db`,
      `arn:aws:glue:${REGION}:${ACCOUNT}:table/db/orders_daily`,
    ]);
    expect(policy.Statement[5].Resource).to.deep.equal(
      ["iceberg-compaction", "iceberg-retention", "iceberg-orphan-file-deletion"].map(
        (g) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws-glue/${g}/*`,
      ),
    );
    const deps = await resourcesOf(opt.arn);
    expect(deps.has(opt.grant)).to.equal(true);
    expect(deps.has(opt.role.policy!)).to.equal(true);
    expect(await valueOf(opt.grant.catalogId)).to.equal(ACCOUNT);

    const holderUrn = await valueOf(holder.urn);
    const old = (type: string, name: string) => `${holderUrn.replace(/::h3$/, "")}$${type}::${name}`;
    expect(await aliasesOf(opt.role.role)).to.deep.equal([old("aws:iam/role:Role", "h3-optimizer")]);
    expect(await aliasesOf(opt.role.policy!)).to.deep.equal([old("aws:iam/rolePolicy:RolePolicy", "h3-optimizer")]);
    expect(await aliasesOf(opt.grant)).to.deep.equal([
      old("aws:lakeformation/permissions:Permissions", "h3-optimizer-lf"),
    ]);
  });
});

describe("IAM in the dev plan: consumers wait for the role's policies", function () {
  let rs: readonly PlannedResource[];
  before(async function () {
    rs = (await planOf("dev")).resources;
  });
  const urnOf = (type: string, name: string) => {
    const r = rs.find((x) => x.type === type && x.name === name);
    expect(r, `${type} ${name}`).to.exist;
    return r!.urn;
  };

  it("Lake Formation grants, Glue jobs, table optimizers and DMS endpoints depend on their role's inline policy", function () {
    const policies = rs.filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy");
    const consumers: [string, string, string][] = [
      ["aws:lakeformation/permissions:Permissions", "br-ingestion-optimizer-lf", "br-ingestion-optimizer"],
      ["aws:lakeformation/permissions:Permissions", "br-ingestion-merge-lf-tables", "br-ingestion-merge-role"],
      ["aws:lakeformation/permissions:Permissions", "br-ingestion-merge-lf-database", "br-ingestion-merge-role"],
    ];
    for (const [type, name, role] of consumers) {
      const consumer = rs.find((r) => r.type === type && r.name === name)!;
      expect(consumer, name).to.exist;
      expect(consumer.dependencies, name).to.include(urnOf("aws:iam/rolePolicy:RolePolicy", role));
    }
    // Every Glue job (CDC merges, NoSQL extractions) waits for the inline policy of the role it runs as.
    const jobs = rs.filter((r) => r.type === "aws:glue/job:Job");
    expect(jobs.length, "Glue jobs in dev").to.be.greaterThan(1);
    for (const job of jobs) {
      const role = rs.find((r) => r.type === "aws:iam/role:Role" && r.outputs.arn === job.inputs.roleArn);
      expect(role, `${job.name}: its role`).to.exist;
      const policy = policies.find((p) => p.inputs.role === role!.id || p.inputs.role === role!.outputs.name);
      expect(policy, `${job.name}: its role's inline policy`).to.exist;
      expect(job.dependencies, job.name).to.include(policy!.urn);
    }
    for (const o of rs.filter((r) => r.type === "aws:glue/catalogTableOptimizer:CatalogTableOptimizer")) {
      const role = policies.find((p) => o.dependencies.includes(p.urn));
      expect(role, o.name).to.exist;
    }
    for (const e of rs.filter(
      (r) => r.type === "aws:dms/endpoint:Endpoint" || r.type === "aws:dms/s3Endpoint:S3Endpoint",
    )) {
      expect(
        policies.some((p) => e.dependencies.includes(p.urn)),
        e.name,
      ).to.equal(true);
    }
  });
});
