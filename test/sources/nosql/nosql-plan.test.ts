/**
 * The NoSQL extractions in the recorded plans: the prod plan has, per Cassandra and Elasticsearch source,
 * its Glue job (Glue 5.0, encrypted security configuration, one run at a time) with a connection in a
 * private subnet of the ingestion VPC, behind a security group that opens only the source port and the
 * AWS endpoints, TLS to the source, credentials only in Secrets Manager (lake key), curated Iceberg tables
 * with their optimizers, a least-privilege role and a failure alarm. A variant of the dev stack with the
 * network ready schedules the jobs and alarms on lag; a Cassandra source needs its connector JAR.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CASSANDRA_CONNECTOR_MARKER } from "../../../functions/nosql-extract/cloud-config";
import { evaluateStack, PlanConfigError, type Plan, type PlannedResource } from "../../../tools/plan/evaluate";
import { configOf, descendants, ofType, planOf } from "../../helpers/plan";

const JOB = "aws:glue/job:Job";
const CONNECTION = "aws:glue/connection:Connection";
const SG = "aws:ec2/securityGroup:SecurityGroup";

/** The extraction component of a source and its resources of `type`. */
function under(plan: Plan, component: string, type: string): PlannedResource[] {
  const root = plan.resources.find((r) => r.name === component && !r.custom);
  if (!root) throw new Error(`no component ${component}`);
  return descendants(plan, root.urn).filter((r) => r.type === type);
}
const one = <T>(xs: readonly T[], what: string): T => {
  expect(xs, what).to.have.length(1);
  return xs[0];
};
const policyOf = (plan: Plan, role: PlannedResource) =>
  JSON.parse(
    plan.resources.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name === role.name)!.inputs
      .policy as string,
  ) as { Statement: { Sid: string; Action: string | string[]; Resource: string | string[] }[] };

describe("nosql extraction: prod plan", function () {
  this.timeout(300_000);
  let plan: Plan;
  const config = configOf("prod");
  before(async () => {
    plan = await planOf("prod");
  });

  const sources = [
    ...config.sources.cassandra.map((s) => ({
      kind: "cassandra" as const,
      name: s.name,
      cell: s.cell,
      tables: s.tables.length,
    })),
    ...config.sources.elasticsearch.map((s) => ({
      kind: "elasticsearch" as const,
      name: s.name,
      cell: s.cell,
      tables: s.indices.length,
    })),
  ];

  it("declares Cassandra and Elasticsearch sources (the rest of this suite is about them)", () => {
    expect(sources.map((s) => s.kind)).to.include.members(["cassandra", "elasticsearch"]);
  });

  for (const s of sources) {
    describe(`${s.kind} source ${s.name}`, () => {
      const component = `${s.cell}-sources-${s.name}`;

      it("runs one Glue 5.0 job with an encrypted security configuration, one run at a time", () => {
        const job = one(under(plan, component, JOB), "jobs");
        expect(job.inputs).to.deep.include({ glueVersion: "5.0", workerType: "G.1X", maxRetries: 0 });
        expect(job.inputs.executionProperty).to.deep.equal({ maxConcurrentRuns: 1 });
        const security = one(under(plan, component, "aws:glue/securityConfiguration:SecurityConfiguration"), "sc");
        expect(job.inputs.securityConfiguration).to.equal(security.inputs.name);
        const enc = security.inputs.encryptionConfiguration as Record<string, Record<string, string>>;
        expect(enc.s3Encryption.s3EncryptionMode).to.equal("SSE-KMS");
        expect(enc.cloudwatchEncryption.cloudwatchEncryptionMode).to.equal("SSE-KMS");
        expect(enc.jobBookmarksEncryption.jobBookmarksEncryptionMode).to.equal("CSE-KMS");
      });

      it("connects from a private subnet of the ingestion VPC, through a group open only to its source and the endpoints", () => {
        const job = one(under(plan, component, JOB), "jobs");
        const connection = one(under(plan, component, CONNECTION), "connections");
        expect(job.inputs.connections).to.deep.equal([connection.inputs.name]);
        const req = connection.inputs.physicalConnectionRequirements as Record<string, unknown>;
        const subnet = ofType(plan, "aws:ec2/subnet:Subnet", s.cell).find((x) => x.id === req.subnetId);
        expect(subnet, "the connection's subnet is one of the cell's ingestion subnets").to.not.equal(undefined);
        expect(subnet!.inputs.mapPublicIpOnLaunch).to.equal(false);
        expect(req.availabilityZone).to.equal(subnet!.inputs.availabilityZone);
        const sg = one(under(plan, component, SG), "security groups");
        expect(req.securityGroupIdLists).to.deep.equal([sg.id]);
        const ingress = sg.inputs.ingress as Record<string, unknown>[];
        expect(ingress).to.have.length(1);
        expect(ingress[0]).to.include({ self: true, protocol: "tcp" });
        const egress = sg.inputs.egress as Record<string, unknown>[];
        for (const e of egress) {
          expect(e.cidrBlocks ?? [], "no egress to the internet").not.to.include("0.0.0.0/0");
        }
        const port = s.kind === "cassandra" ? 9042 : 9200;
        expect(egress.some((e) => e.fromPort === port && e.toPort === port)).to.equal(true);
        expect(egress.filter((e) => e.self !== true).every((e) => e.fromPort === port || e.fromPort === 443)).to.equal(
          true,
        );
      });

      it("keeps the credentials in Secrets Manager with the lake key, never in the connection or the job", () => {
        const secret = one(under(plan, component, "aws:secretsmanager/secret:Secret"), "secrets");
        const lakeKey = plan.resources.find(
          (r) => r.type === "aws:kms/key:Key" && r.cell === s.cell && /lake/.test(r.name),
        );
        expect(secret.inputs.kmsKeyId).to.equal(lakeKey?.outputs.arn);
        const version = one(under(plan, component, "aws:secretsmanager/secretVersion:SecretVersion"), "versions");
        expect(version.secretPaths).to.include("secretString");
        const connection = one(under(plan, component, CONNECTION), "connections");
        const job = one(under(plan, component, JOB), "jobs");
        const text = JSON.stringify([connection.inputs, job.inputs]);
        expect(text).not.to.match(/PASSWORD|auth\.pass|replace-with-pulumi/i);
        if (s.kind === "elasticsearch") {
          expect(connection.inputs.connectionType).to.equal("OPENSEARCH");
          const spark = JSON.parse((connection.inputs.connectionProperties as Record<string, string>).SparkProperties);
          expect(spark.secretId).to.equal(secret.inputs.name);
          expect(spark["opensearch.net.ssl"]).to.equal("true");
          expect(spark["opensearch.nodes"]).to.match(/^https:\/\//);
        } else {
          expect(connection.inputs.connectionType).to.equal("NETWORK");
          expect((job.inputs.defaultArguments as Record<string, string>)["--secret_arn"]).to.equal(secret.outputs.arn);
        }
      });

      it("lands in curated Iceberg tables with snapshot expiry and orphan cleanup", () => {
        const tables = under(plan, component, "aws:glue/catalogTable:CatalogTable");
        expect(tables).to.have.length(s.tables);
        const optimizers = under(plan, component, "aws:glue/catalogTableOptimizer:CatalogTableOptimizer");
        expect(optimizers.map((o) => o.inputs.type)).to.have.members(
          tables.flatMap(() => ["compaction", "retention", "orphan_file_deletion"]),
        );
        for (const t of tables) {
          const fields = (
            (t.inputs.openTableFormatInput as any).icebergInput.icebergTableInput.schema.fields as {
              name: string;
            }[]
          ).map((f) => f.name);
          expect(fields).to.include.members(["_source_version", "_extracted_at"]);
        }
      });

      it("gives the job a role limited to its prefixes, tables, secret and connection", () => {
        const role = under(plan, component, "aws:iam/role:Role").find((r) => /extract-role$/.test(r.name))!;
        const statements = policyOf(plan, role).Statement;
        const actions = statements.flatMap((x) => (Array.isArray(x.Action) ? x.Action : [x.Action]));
        expect(actions.filter((a) => a.endsWith("*"))).to.deep.equal([]);
        const s3 = statements.filter((x) => [x.Action].flat().some((a) => a.startsWith("s3:")));
        for (const st of s3)
          for (const res of [st.Resource].flat())
            if (res.includes("/"))
              expect(res, st.Sid).to.match(
                new RegExp(
                  `/(curated/${s.name}/|_system/nosql-extract/state/${s.name}/|_system/glue/nosql-extract/|_tmp/glue/nosql-extract/${s.name}/)\\*$`,
                ),
              );
        const secret = one(under(plan, component, "aws:secretsmanager/secret:Secret"), "secrets");
        expect(statements.find((x) => x.Sid === "SourceCredentials")!.Resource).to.equal(secret.outputs.arn);
        const catalog = statements.find((x) => x.Sid === "CuratedCatalog")!;
        expect([catalog.Resource].flat().filter((r) => r.includes(":table/"))).to.have.length(s.tables);
      });

      it("reports failed runs to the ingestion alert topic, and is unscheduled until networkReady", () => {
        const rule = one(under(plan, component, "aws:cloudwatch/eventRule:EventRule"), "rules");
        const pattern = JSON.parse(rule.inputs.eventPattern as string);
        expect(pattern["detail-type"]).to.deep.equal(["Glue Job State Change"]);
        expect(pattern.detail.state).to.include.members(["FAILED", "TIMEOUT"]);
        const target = one(under(plan, component, "aws:cloudwatch/eventTarget:EventTarget"), "targets");
        const topic = plan.resources.find(
          (r) => r.type === "aws:sns/topic:Topic" && r.cell === s.cell && /ingestion-alerts/.test(r.name),
        );
        expect(target.inputs.arn).to.equal(topic?.outputs.arn);
        expect(under(plan, component, "aws:glue/trigger:Trigger")).to.deep.equal([]);
      });
    });
  }

  it("reaches the Glue API through a VPC endpoint (the jobs' VPC has no internet)", () => {
    const endpoints = ofType(plan, "aws:ec2/vpcEndpoint:VpcEndpoint", "br").map((e) => e.inputs.serviceName);
    expect(endpoints).to.include("com.amazonaws.sa-east-1.glue");
  });
});

describe("nosql extraction: dev stack variants", function () {
  this.timeout(300_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "nosql-jar-"));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  async function devWith(change: (sources: any) => void): Promise<Plan> {
    const dev = await planOf("dev");
    const sources = JSON.parse(dev.config["lakehouse:sources"]);
    change(sources);
    return evaluateStack({ stack: "dev", configOverrides: { "lakehouse:sources": sources } });
  }
  const cassandra = (extra: Record<string, unknown>) => ({
    name: "sessions",
    cell: "br",
    contactPoints: ["cassandra-1.dev.acme.internal"],
    keyspace: "sessions",
    credentials: "orders",
    schedule: "cron(0 */6 * * ? *)",
    tables: [
      {
        name: "carts",
        keys: ["cart_id"],
        columns: [
          { name: "cart_id", type: "uuid" },
          { name: "items", type: "string" },
        ],
      },
    ],
    ...extra,
  });

  it("with the network ready, schedules both jobs, uploads the connector and alarms on lag per table", async () => {
    // A stand-in with the connector's class in its central directory (the check reads entry names).
    const jar = path.join(tmp, "spark-cassandra-connector-assembly_2.12-3.5.1.jar");
    fs.writeFileSync(
      jar,
      Buffer.concat([Buffer.from("PK\u0003\u0004"), Buffer.from(`${CASSANDRA_CONNECTOR_MARKER}.class`)]),
    );
    const plan = await devWith((sources) => {
      sources.elasticsearch[0].networkReady = true;
      sources.cassandra = [cassandra({ networkReady: true, connectorJar: jar })];
    });
    const triggers = ofType(plan, "aws:glue/trigger:Trigger").filter((t) =>
      /elasticsearch|cassandra/.test(String(t.inputs.name)),
    );
    expect(triggers.map((t) => [t.inputs.schedule, t.inputs.startOnCreation])).to.have.deep.members([
      ["cron(30 3 * * ? *)", true],
      ["cron(0 */6 * * ? *)", true],
    ]);
    const job = ofType(plan, JOB).find((j) => j.inputs.name === "lakehouse-dev-br-cassandra-sessions")!;
    const args = job.inputs.defaultArguments as Record<string, string>;
    expect(args["--extra-jars"]).to.match(
      /_system\/glue\/nosql-extract\/jars\/spark-cassandra-connector-assembly_2\.12-3\.5\.1\.jar$/,
    );
    const alarms = ofType(plan, "aws:cloudwatch/metricAlarm:MetricAlarm").filter(
      (a) => a.inputs.namespace === "Lakehouse/Sources",
    );
    expect(alarms.map((a) => (a.inputs.dimensions as Record<string, string>).Table)).to.have.members([
      "catalog_search_products",
      "sessions_carts",
    ]);
    const daily = alarms.find(
      (a) => (a.inputs.dimensions as Record<string, string>).Table === "catalog_search_products",
    )!;
    expect(daily.inputs).to.include({
      treatMissingData: "breaching",
      period: 3600,
      evaluationPeriods: 48,
      threshold: 1,
    });
  });

  it("refuses a Cassandra source whose connector JAR is missing or is not the connector, as a config problem", async () => {
    const bogus = path.join(tmp, "not-the-connector.jar");
    fs.writeFileSync(bogus, "PK\u0003\u0004 something else");
    const folder = path.join(tmp, "folder.jar");
    fs.mkdirSync(folder, { recursive: true });
    for (const [jar, message] of [
      [path.join(tmp, "absent.jar"), "does not exist. Download com.datastax.spark:spark-cassandra-connector-assembly"],
      [bogus, "is not the Spark Cassandra Connector assembly"],
      [folder, "is not a file"],
    ] as const) {
      const error = await devWith(
        (sources) => (sources.cassandra = [cassandra({ networkReady: true, connectorJar: jar })]),
      ).catch((e: unknown) => e);
      // Found by validation, before anything is declared: the key and the stack file, no stack trace.
      expect(error, jar).to.be.instanceOf(PlanConfigError);
      const { problems } = error as PlanConfigError;
      expect(problems).to.have.length(1);
      expect(problems[0]).to.satisfy((p: string) =>
        p.startsWith(`lakehouse:sources.cassandra[0].connectorJar: '${jar}' ${message}`),
      );
      expect((error as Error).message).to.contain("Pulumi.dev.yaml");
    }
    // With other problems of the same source, in the same error.
    const error = await devWith(
      (sources) =>
        (sources.cassandra = [
          cassandra({ networkReady: true, connectorJar: path.join(tmp, "absent.jar"), splitSizeMb: 1 }),
        ]),
    ).catch((e: unknown) => e);
    expect((error as PlanConfigError).problems.map((p) => p.split(":")[1])).to.have.members([
      "sources.cassandra[0].splitSizeMb",
      "sources.cassandra[0].connectorJar",
    ]);
  });
});
