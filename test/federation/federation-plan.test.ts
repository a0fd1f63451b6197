/**
 * Federation wiring per cell kind on the recorded plans: Omni (eu) and in-country copy (br), the lake
 * feed, the marts, and the least-privilege rules every IAM grant of the plan must follow.
 */
import { expect } from "chai";
import { OMNI_AWS_REGIONS } from "../../components/config";
import { biEngineBytes, OMNI_ROLE_MAX_SESSION_SECONDS } from "../../components/federation/limits";
import { MART_VIEWS } from "../../components/federation/marts";
import type { Plan, PlannedResource } from "../../tools/plan/evaluate";
import { RecordingMocks } from "../../tools/plan/mocks";
import { configOf, descendants, named, ofType, planOf } from "../helpers/plan";

type Statement = Record<string, unknown>;
const statements = (json: unknown): Statement[] => (JSON.parse(String(json)) as { Statement: Statement[] }).Statement;
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
const federationOf = (plan: Plan, cell: string): PlannedResource[] =>
  descendants(plan, named(plan, "lakehouse:federation:Federation", `${cell}-federation`).urn);
const typesOf = (rs: readonly PlannedResource[]): Set<string> => new Set(rs.map((r) => r.type));

describe("federation on the prod plan", () => {
  const config = configOf("prod");
  const eu = config.cells.find((c) => c.name === "eu")!;
  const br = config.cells.find((c) => c.name === "br")!;

  describe("eu cell: BigQuery Omni", () => {
    it("pairs one connection with the cell's AWS region and names the role by a built ARN", async () => {
      const plan = await planOf("prod");
      const connections = ofType(plan, "gcp:bigquery/connection:Connection", "eu");
      expect(connections).to.have.length(1);
      const c = connections[0];
      expect(c.inputs.location).to.equal(OMNI_AWS_REGIONS[eu.aws.region]).and.to.equal("aws-eu-west-1");
      expect(c.inputs.kmsKeyName).to.equal(undefined);
      const role = named(plan, "aws:iam/role:Role", "eu-federation-omni-role");
      expect((c.inputs.aws as { accessRole: { iamRoleId: string } }).accessRole.iamRoleId)
        .to.equal(`arn:aws:iam::${eu.aws.accountId}:role/${String(role.inputs.name)}`)
        .and.to.equal(role.outputs.arn);
      // No cycle: the connection does not wait on the role.
      expect(c.dependencies).to.not.include(role.urn);
    });

    it("has the role trust accounts.google.com for this connection's identity only, 12-hour sessions", async () => {
      const plan = await planOf("prod");
      const c = ofType(plan, "gcp:bigquery/connection:Connection", "eu")[0];
      const identity = (c.outputs.aws as { accessRole: { identity: string } }).accessRole.identity;
      expect(identity).to.match(/^\d{21}$/);
      const role = named(plan, "aws:iam/role:Role", "eu-federation-omni-role");
      expect(role.inputs.maxSessionDuration).to.equal(OMNI_ROLE_MAX_SESSION_SECONDS).and.to.equal(43200);
      expect(statements(role.inputs.assumeRolePolicy)).to.deep.equal([
        {
          Sid: "BigQueryOmniConnection",
          Effect: "Allow",
          Principal: { Federated: "accounts.google.com" },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: { StringEquals: { "accounts.google.com:sub": identity } },
        },
      ]);
    });

    it("gives the role read-only access to the curated prefix, the curated catalog and the lake key", async () => {
      const plan = await planOf("prod");
      const policy = named(plan, "aws:iam/rolePolicy:RolePolicy", "eu-federation-omni-read-curated");
      const warehouse = String(named(plan, "aws:s3/bucket:Bucket", "eu-aws-warehouse").outputs.arn);
      const lakeKey = String(named(plan, "aws:kms/key:Key", "eu-aws-lake-key").outputs.arn);
      const actions = statements(policy.inputs.policy).flatMap((s) => asArray(s.Action) as string[]);
      for (const a of actions)
        expect(a).to.match(/^(s3:(Get|List)|glue:Get|lakeformation:GetDataAccess|kms:(Decrypt|DescribeKey))/);
      const byId = Object.fromEntries(statements(policy.inputs.policy).map((s) => [s.Sid, s]));
      expect(byId.ReadCuratedObjects.Resource).to.equal(`${warehouse}/curated/*`);
      expect(byId.DecryptLake.Resource).to.equal(lakeKey);
      expect(byId.GlueCuratedCatalog.Resource).to.deep.equal([
        "arn:aws:glue:eu-west-1:333333333333:catalog",
        "arn:aws:glue:eu-west-1:333333333333:database/prod_eu_curated",
        "arn:aws:glue:eu-west-1:333333333333:table/prod_eu_curated/*",
      ]);
      const role = named(plan, "aws:iam/role:Role", "eu-federation-omni-role");
      const grants = ofType(plan, "aws:lakeformation/permissions:Permissions", "eu").filter(
        (p) => p.inputs.principal === role.outputs.arn,
      );
      expect(grants.map((g) => [g.inputs.permissions, g.inputs.database ?? g.inputs.table])).to.deep.equal([
        [["DESCRIBE"], { catalogId: "333333333333", name: "prod_eu_curated" }],
        [["SELECT", "DESCRIBE"], { catalogId: "333333333333", databaseName: "prod_eu_curated", wildcard: true }],
      ]);
    });

    it("federates the curated Glue database into a BigQuery dataset in the Omni location, after the grants", async () => {
      const plan = await planOf("prod");
      const ds = named(plan, "gcp:bigquery/dataset:Dataset", "eu-federation-omni-dataset");
      const c = ofType(plan, "gcp:bigquery/connection:Connection", "eu")[0];
      expect(ds.inputs.location).to.equal(c.inputs.location);
      expect(ds.inputs.externalDatasetReference).to.deep.equal({
        externalSource: "aws-glue://arn:aws:glue:eu-west-1:333333333333:database/prod_eu_curated",
        connection: c.id,
      });
      const curatedDb = named(plan, "aws:glue/catalogDatabase:CatalogDatabase", "eu-aws-catalog-curated");
      expect(String((ds.inputs.externalDatasetReference as { externalSource: string }).externalSource)).to.match(
        new RegExp(`database/${String(curatedDb.inputs.name)}$`),
      );
      // Omni datasets cannot use CMEK (compensating control in components/federation/README.md).
      expect(ds.inputs.defaultEncryptionConfiguration).to.equal(undefined);
      for (const dep of [
        "eu-federation-omni-read-curated",
        "eu-federation-omni-curated-database",
        "eu-federation-omni-curated-tables",
      ]) {
        expect(ds.dependencies).to.include(plan.resources.find((r) => r.name === dep)!.urn);
      }
    });

    it("lets the org policy of the eu project allow the Omni location, and only there", async () => {
      const plan = await planOf("prod");
      const allowed = (cell: string) =>
        (
          ofType(plan, "gcp:orgpolicy/policy:Policy", cell)[0].inputs.spec as {
            rules: { values: { allowedValues: string[] } }[];
          }
        ).rules[0].values.allowedValues;
      expect(allowed("eu")).to.deep.equal(["in:europe-west1-locations", "aws-eu-west-1"]);
      expect(allowed("br")).to.deep.equal(["in:southamerica-east1-locations"]);
    });

    it("feeds orders_daily by a scheduled query in the Omni location as its own service account", async () => {
      const plan = await planOf("prod");
      const t = ofType(plan, "gcp:bigquery/dataTransferConfig:DataTransferConfig", "eu");
      expect(t).to.have.length(1);
      expect(t[0].inputs.dataSourceId).to.equal("scheduled_query");
      expect(t[0].inputs.location).to.equal("aws-eu-west-1");
      expect(t[0].inputs.serviceAccountName).to.equal("eu-omni-feed@acme-lakehouse-eu-prod.iam.gserviceaccount.com");
      const query = String((t[0].inputs.params as { query: string }).query);
      expect(query).to.include("INSERT INTO `acme-lakehouse-eu-prod.lake_feed.orders_daily`");
      expect(query).to.include("FROM `acme-lakehouse-eu-prod.lake.orders_eu_orders`");
    });
  });

  describe("br cell: in-country copy", () => {
    it("holds no Omni resource and keeps every federation resource in Brazilian regions", async () => {
      const plan = await planOf("prod");
      const rs = federationOf(plan, "br");
      expect(typesOf(rs)).to.not.include("gcp:bigquery/connection:Connection");
      for (const r of rs.filter((x) => x.custom)) {
        if (r.type.startsWith("aws:")) expect(r.provider?.region, r.name).to.equal(br.aws.region);
        if (r.type.startsWith("gcp:")) {
          expect(r.provider?.region, r.name).to.equal(br.gcp.region);
          const loc = r.inputs.location;
          // PAM entitlements are global IAM metadata; every data-bearing or processing resource is regional.
          if (typeof loc === "string" && r.type !== "gcp:privilegedaccessmanager/entitlement:entitlement") {
            expect(loc.toLowerCase(), r.name).to.equal(br.gcp.region);
          }
        }
      }
    });

    it("exports yesterday's aggregate with Athena in sa-east-1, on a schedule, to an in-region KMS bucket", async () => {
      const plan = await planOf("prod");
      const s = named(plan, "aws:scheduler/schedule:Schedule", "br-federation-in-country-export-schedule");
      const target = s.inputs.target as { arn: string; input: string; roleArn: string };
      expect(target.arn).to.equal("arn:aws:scheduler:::aws-sdk:athena:startQueryExecution");
      const input = JSON.parse(target.input) as { QueryString: string; WorkGroup: string };
      expect(input.QueryString).to.match(/^UNLOAD \(/);
      expect(input.QueryString).to.include('FROM "prod_br_curated"."orders_br_orders"');
      expect(input.QueryString).to.include(
        "s3://lakehouse-prod-br-federation-exports-222222222222/orders_daily/<aws.scheduler.scheduled-time>/",
      );
      expect(input.WorkGroup).to.equal("lakehouse-prod-br-federation-exports");
      // The table the export reads is one the ingestion layer declares in the curated database.
      const tables = ofType(plan, "aws:glue/catalogTable:CatalogTable", "br").map(
        (t) => `${String(t.inputs.databaseName)}.${String(t.inputs.name)}`,
      );
      expect(tables).to.include("prod_br_curated.orders_br_orders");
      const sse = named(
        plan,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "br-federation-in-country-export-bucket-sse",
      );
      const lakeKey = String(named(plan, "aws:kms/key:Key", "br-aws-lake-key").outputs.arn);
      expect(
        (sse.inputs.rules as { applyServerSideEncryptionByDefault: { kmsMasterKeyId: string } }[])[0]
          .applyServerSideEncryptionByDefault.kmsMasterKeyId,
      ).to.equal(lakeKey);
      // Lake Formation lets the export read only the feed's columns of the orders table.
      const cols = named(
        plan,
        "aws:lakeformation/permissions:Permissions",
        "br-federation-in-country-export-orders-columns",
      );
      expect(cols.inputs.tableWithColumns).to.deep.equal({
        catalogId: "222222222222",
        databaseName: "prod_br_curated",
        name: "orders_br_orders",
        columnNames: ["created_at", "customer_pseudo_id"],
      });
    });

    it("reads only columns the curated orders table declares, and the merge derives the pseudonym there", async () => {
      const plan = await planOf("prod");
      for (const cell of ["br", "eu"]) {
        const table = ofType(plan, "aws:glue/catalogTable:CatalogTable", cell).find(
          (t) => t.inputs.name === `orders_${cell}_orders`,
        )!;
        const fields = (
          table.inputs.openTableFormatInput as {
            icebergInput: { icebergTableInput: { schema: { fields: { name: string; type: string }[] } } };
          }
        ).icebergInput.icebergTableInput.schema.fields;
        expect(fields.find((f) => f.name === "customer_pseudo_id")?.type, cell).to.equal("string");
        expect(
          fields.map((f) => f.name),
          cell,
        ).to.include("created_at");
        // The Glue job's config computes it: HMAC of customer_id with the cell key.
        const config = ofType(plan, "aws:s3/bucketObjectv2:BucketObjectv2", cell).find((o) =>
          String(o.inputs.key).endsWith(`/config/orders-${cell}/orders_${cell}_orders.json`),
        )!;
        expect(JSON.parse(String(config.inputs.content)).pseudonymise).to.deep.equal([
          { column: "customer_id", as: "customer_pseudo_id" },
        ]);
      }
      const cols = named(
        plan,
        "aws:lakeformation/permissions:Permissions",
        "br-federation-in-country-export-orders-columns",
      );
      const granted = (cols.inputs.tableWithColumns as { columnNames: string[] }).columnNames;
      expect(granted).to.include("customer_pseudo_id");
    });

    it("moves the export with Storage Transfer Service by role federation (no access key) into southamerica-east1", async () => {
      const plan = await planOf("prod");
      expect(ofType(plan, "aws:iam/accessKey:AccessKey")).to.have.length(0);
      const job = named(plan, "gcp:storage/transferJob:TransferJob", "br-federation-in-country-transfer");
      const spec = job.inputs.transferSpec as {
        awsS3DataSource: Record<string, unknown>;
        gcsDataSink: { bucketName: string };
      };
      expect(spec.awsS3DataSource.awsAccessKey).to.equal(undefined);
      const role = named(plan, "aws:iam/role:Role", "br-federation-in-country-transfer-role");
      expect(spec.awsS3DataSource.roleArn).to.equal(role.outputs.arn);
      expect(spec.awsS3DataSource.bucketName).to.equal("lakehouse-prod-br-federation-exports-222222222222");
      const sa = named(plan, "gcp:serviceaccount/account:Account", "br-federation-in-country-sts-sa");
      // The mocks' Storage Transfer agent of the br project (getTransferProjectServiceAccount).
      const stsAgentSubject = new RecordingMocks().call({
        token: "gcp:storage/getTransferProjectServiceAccount:getTransferProjectServiceAccount",
        inputs: { project: br.gcp.project },
      } as Parameters<RecordingMocks["call"]>[0]).subjectId;
      expect(job.inputs.serviceAccount).to.equal(sa.outputs.email);
      expect(statements(role.inputs.assumeRolePolicy)[0]).to.deep.include({
        Principal: { Federated: "accounts.google.com" },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: { StringEquals: { "accounts.google.com:sub": [stsAgentSubject, sa.outputs.uniqueId] } },
      });
      const sink = ofType(plan, "gcp:storage/bucket:Bucket", "br").find(
        (b) => b.outputs.name === spec.gcsDataSink.bucketName,
      )!;
      expect(sink.inputs.location).to.match(/^southamerica-east1$/i);
      expect((sink.inputs.encryption as { defaultKmsKeyName: string }).defaultKmsKeyName).to.match(
        /locations\/southamerica-east1\//,
      );
    });

    it("enables the Storage Transfer, BigQuery Reservation and PAM APIs (once, with the cell's) before using them", async () => {
      const plan = await planOf("prod");
      const apis = (cell: string) =>
        ofType(plan, "gcp:projects/service:Service", cell)
          .map((r) => String(r.inputs.service))
          .sort();
      for (const cell of ["br", "eu"]) {
        expect(apis(cell)).to.include.members([
          "bigqueryreservation.googleapis.com",
          "privilegedaccessmanager.googleapis.com",
        ]);
        // One Service resource per API and project: two would manage the same cloud object.
        expect(new Set(apis(cell)).size, cell).to.equal(apis(cell).length);
      }
      expect(apis("br")).to.include("storagetransfer.googleapis.com");
      expect(apis("eu")).to.not.include("storagetransfer.googleapis.com");
      const sts = named(plan, "gcp:projects/service:Service", "br-gcp-apis-storagetransfer");
      expect(
        named(plan, "gcp:storage/transferJob:TransferJob", "br-federation-in-country-transfer").dependencies,
      ).to.include(sts.urn);
    });

    it("loads into lake_feed with the Data Transfer Service in southamerica-east1, CMEK, idempotently per day", async () => {
      const plan = await planOf("prod");
      const t = ofType(plan, "gcp:bigquery/dataTransferConfig:DataTransferConfig", "br");
      expect(t).to.have.length(1);
      expect(t[0].inputs).to.deep.include({
        dataSourceId: "google_cloud_storage",
        location: "southamerica-east1",
        destinationDatasetId: "lake_feed",
      });
      expect((t[0].inputs.encryptionConfiguration as { kmsKeyName: string }).kmsKeyName).to.match(
        /southamerica-east1\/keyRings\/.*\/cryptoKeys\/bigquery$/,
      );
      // The Cloud Storage transfer's write_disposition takes APPEND or MIRROR (BigQuery docs, "Cloud Storage
      // transfers"); MIRROR into a partition decorator replaces exactly that day.
      expect((t[0].inputs.params as Record<string, string>).write_disposition).to.equal("MIRROR");
    });
  });

  for (const cell of ["br", "eu"]) {
    describe(`cell ${cell}: marts`, () => {
      it("has the PII-free views, authorized on their sources, and a BI Engine reservation sized from scale", async () => {
        const plan = await planOf("prod");
        const c = config.cells.find((x) => x.name === cell)!;
        const views = ofType(plan, "gcp:bigquery/table:Table", cell).filter(
          (t) => t.inputs.view !== undefined && t.inputs.datasetId === "marts",
        );
        expect(views.map((v) => v.inputs.tableId).sort()).to.include.members([...MART_VIEWS]);
        const authorized = ofType(plan, "gcp:bigquery/datasetAccess:DatasetAccess", cell)
          .filter((a) => (a.inputs.view as { datasetId?: string } | undefined)?.datasetId === "marts")
          .map((a) => `${String(a.inputs.datasetId)}<-${(a.inputs.view as { tableId: string }).tableId}`)
          .sort();
        expect(authorized).to.include.members([
          "clickstream_raw<-customer_segments",
          "clickstream_raw<-kpi_daily",
          "lake_feed<-customer_segments",
          "lake_feed<-kpi_daily",
        ]);
        const bi = ofType(plan, "gcp:bigquery/biReservation:BiReservation", cell);
        expect(bi).to.have.length(1);
        expect(bi[0].inputs).to.deep.include({ location: c.gcp.region, size: biEngineBytes(config.scale) });
        // On AWS: the orders mart as an Iceberg table in the marts database, refreshed and trimmed by Athena.
        const martTable = ofType(plan, "aws:glue/catalogTable:CatalogTable", cell).find(
          (t) => t.inputs.databaseName === `prod_${cell}_marts` && t.inputs.name === "orders_daily",
        );
        expect(martTable, "marts.orders_daily").to.not.equal(undefined);
        const input = (id: string) =>
          JSON.parse(
            String(
              (
                named(plan, "aws:scheduler/schedule:Schedule", `${cell}-federation-aws-marts-${id}`).inputs.target as {
                  input: string;
                }
              ).input,
            ),
          ) as {
            QueryString: string;
          };
        expect(input("refresh").QueryString).to.match(new RegExp(`^MERGE INTO "prod_${cell}_marts"."orders_daily"`));
        expect(input("expire").QueryString).to.equal(
          `DELETE FROM "prod_${cell}_marts"."orders_daily" WHERE order_date < date_add('day', -${config.retention.marts}, current_date)`,
        );
        const retentionOpt = named(
          plan,
          "aws:glue/catalogTableOptimizer:CatalogTableOptimizer",
          `${cell}-federation-aws-marts-orders-daily-retention`,
        );
        const ice = (
          retentionOpt.inputs.configuration as {
            retentionConfiguration: { icebergConfiguration: { snapshotRetentionPeriodInDays: number } };
          }
        ).retentionConfiguration.icebergConfiguration;
        expect(ice.snapshotRetentionPeriodInDays).to.be.at.most(config.erasureSlaDays);
        // The analysts' Athena workgroup on AWS (storage core) is the one the persona roles may use.
        const wg = named(plan, "aws:athena/workgroup:Workgroup", `${cell}-aws-analysts`);
        const analyst = named(plan, "aws:iam/rolePolicy:RolePolicy", `${cell}-federation-aws-personas-analysts-access`);
        const athena = statements(analyst.inputs.policy).find((s) => s.Sid === "AthenaWorkgroup")!;
        expect(athena.Resource).to.equal(
          `arn:aws:athena:${c.aws.region}:${c.aws.accountId}:workgroup/${String(wg.inputs.name)}`,
        );
      });
    });
  }
});

describe("least privilege across the whole plan", () => {
  const PRIMITIVE = ["roles/owner", "roles/editor", "roles/viewer"];
  for (const stack of ["prod", "dev"]) {
    it(`${stack}: no GCP grant uses a primitive role`, async () => {
      const plan = await planOf(stack);
      const bad: string[] = [];
      for (const r of plan.resources.filter((x) => x.type.startsWith("gcp:"))) {
        const roles = [
          r.inputs.role,
          ...(
            (r.inputs.privilegedAccess as { gcpIamAccess?: { roleBindings?: { role: string }[] } } | undefined)
              ?.gcpIamAccess?.roleBindings ?? []
          ).map((b) => b.role),
        ];
        for (const role of roles)
          if (typeof role === "string" && PRIMITIVE.includes(role)) bad.push(`${r.type} ${r.name}: ${role}`);
      }
      expect(bad).to.deep.equal([]);
    });

    it(`${stack}: no AWS policy allows a wildcard action`, async () => {
      const plan = await planOf(stack);
      const bad: string[] = [];
      for (const r of plan.resources) {
        const docs = [
          r.type === "aws:iam/rolePolicy:RolePolicy" ||
          r.type === "aws:iam/policy:Policy" ||
          r.type === "aws:s3/bucketPolicy:BucketPolicy"
            ? r.inputs.policy
            : undefined,
          r.type === "aws:iam/role:Role" ? r.inputs.assumeRolePolicy : undefined,
        ].filter((d): d is string => typeof d === "string");
        for (const doc of docs) {
          for (const s of statements(doc)) {
            if (s.Effect !== "Allow") continue;
            if (s.NotAction !== undefined) bad.push(`${r.name}: NotAction`);
            for (const a of asArray(s.Action))
              if (typeof a === "string" && (a === "*" || a.endsWith(":*"))) bad.push(`${r.name}: ${a}`);
          }
        }
      }
      expect(bad).to.deep.equal([]);
    });
  }
});

describe("federation on the dev plan", () => {
  it("the single br cell federates by in-country copy, with marts and persona grants", async () => {
    const plan = await planOf("dev");
    const rs = federationOf(plan, "br");
    const types = typesOf(rs);
    expect(types).to.not.include("gcp:bigquery/connection:Connection");
    for (const t of [
      "lakehouse:federation:InCountryCopy",
      "lakehouse:federation:Marts",
      "lakehouse:federation:AthenaMarts",
      "lakehouse:federation:AwsPersonaAccess",
      "lakehouse:federation:GcpPersonaAccess",
      "gcp:storage/transferJob:TransferJob",
      "gcp:bigquery/biReservation:BiReservation",
    ]) {
      expect(types, t).to.include(t);
    }
    const unload = JSON.parse(
      String(
        (
          named(plan, "aws:scheduler/schedule:Schedule", "br-federation-in-country-export-schedule").inputs.target as {
            input: string;
          }
        ).input,
      ),
    ) as { QueryString: string };
    expect(unload.QueryString).to.include('FROM "dev_br_curated"."orders_orders"');
  });
});
