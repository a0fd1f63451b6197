/**
 * Issue 14 on the prod plan, GCP side (components/gcp/rights): per cell, the worker is a private Cloud Run
 * service in the cell region with its own key and account, running the archive the plan uploads; only the
 * schedule's account may invoke it, and the hourly schedule calls it with an OIDC token in the cell region;
 * the exports and suppression buckets are CMEK, private, and expire what they must; the worker's grants
 * are exactly the ones it needs (objects of its two buckets, jobs in the project, WRITER on the datasets
 * of the registry's GCP tables); the AWS role it assumes trusts its account's unique id only, and the
 * collector reads the suppression list the worker writes.
 */
import { expect } from "chai";
import { parseRegistry, EXPORT_EXPIRY_DAYS, SUPPRESSION_OBJECT } from "../../functions/subject-rights/registry";
import { suppressionObjectUri, WORKER_SCHEDULE } from "../../components/gcp/rights/subject-rights";
import { WORKER_ENV, WORKER_SOURCE_PREFIX, workerArchive } from "../../components/gcp/rights/worker-source";
import { nodeBaseImage } from "../../components/gcp/source-archive";
import type { Plan, PlannedResource } from "../../tools/plan/evaluate";
import { configOf, descendants, planOf } from "../helpers/plan";

type Rec = Record<string, unknown>;
const RUN = "gcp:cloudrunv2/service:Service";
const INVOKER = "gcp:cloudrunv2/serviceIamMember:ServiceIamMember";
const JOB = "gcp:cloudscheduler/job:Job";
const BUCKET = "gcp:storage/bucket:Bucket";
const BUCKET_IAM = "gcp:storage/bucketIAMMember:BucketIAMMember";
const ACCOUNT = "gcp:serviceaccount/account:Account";

function one(rs: readonly PlannedResource[], type: string, name?: RegExp): PlannedResource {
  const found = rs.filter((r) => r.type === type && (name === undefined || name.test(r.name)));
  expect(found, `${type} ${String(name ?? "")}`).to.have.length(1);
  return found[0];
}

const envOf = (svc: PlannedResource): Record<string, string> => {
  const container = (svc.inputs.template as { containers: Rec[] }).containers[0];
  return Object.fromEntries((container.envs as { name: string; value: string }[]).map((e) => [e.name, e.value]));
};

describe("subject rights on GCP: the prod plan (issue 14)", function () {
  this.timeout(180_000);
  let plan: Plan;
  const config = configOf("prod");
  before(async () => {
    plan = await planOf("prod");
  });

  for (const cell of config.cells) {
    describe(`cell ${cell.name}`, () => {
      let inside: PlannedResource[];
      let worker: PlannedResource;
      let scheduler: PlannedResource;
      let service: PlannedResource;
      const inCell = (type: string) => plan.resources.filter((r) => r.type === type && r.cell === cell.name);
      before(() => {
        const component = one(inCell("lakehouse:gcp:SubjectRights"), "lakehouse:gcp:SubjectRights");
        inside = descendants(plan, component.urn);
        worker = one(inside, ACCOUNT, /-worker-sa$/);
        scheduler = one(inside, ACCOUNT, /-scheduler-sa$/);
        service = one(inside, RUN);
      });

      it("runs the worker as a private Cloud Run service in the cell region, with its own key and account", () => {
        const { inputs } = service;
        expect(inputs.location).to.equal(cell.gcp.region);
        expect(inputs.ingress, "not reachable from the internet").to.equal("INGRESS_TRAFFIC_INTERNAL_ONLY");
        expect(inputs.invokerIamDisabled, "IAM decides who calls").to.not.equal(true);
        const template = inputs.template as Rec;
        expect(template.serviceAccount).to.equal(worker.outputs.email);
        const key = one(inside, "gcp:kms/cryptoKey:CryptoKey");
        expect(template.encryptionKey, "its own CMEK").to.equal(key.id);
        expect(String(key.inputs.keyRing)).to.contain(`/locations/${cell.gcp.region}/`);
        expect(template.maxInstanceRequestConcurrency, "one run at a time").to.equal(1);
        expect(template.scaling).to.deep.include({ minInstanceCount: 0, maxInstanceCount: 1 });
        expect(template.timeout).to.equal("1800s");
      });

      it("runs the archive of functions/subject-rights this plan uploads, on the regional Node.js base image", () => {
        const { archive, command } = workerArchive();
        const source = one(inside, "gcp:storage/bucketObject:BucketObject");
        expect(source.inputs.name).to.equal(`${WORKER_SOURCE_PREFIX}source-${archive.hash}.zip`);
        const container = (service.inputs.template as { containers: Rec[] }).containers[0];
        expect(container.baseImageUri).to.equal(nodeBaseImage(cell.gcp.region));
        expect([...(container.commands as string[]), ...(container.args as string[])]).to.deep.equal([...command]);
        expect(command[1]).to.equal("dist/subject-rights/gcp-server.js");
        expect(archive.entries.map((e) => e.path)).to.include(command[1]);
        const gcs = (container.sourceCode as { cloudStorageSource: Rec }).cloudStorageSource;
        expect([gcs.bucket, gcs.object]).to.deep.equal([source.inputs.bucket, source.inputs.name]);
        expect(service.dependencies, "waits for the object").to.include(source.urn);
        // The Cloud Run agent reads that prefix only, and the service waits for the grant.
        const reader = one(inside, BUCKET_IAM, /-source-reader$/);
        expect((reader.inputs.condition as Rec).expression).to.contain(`/objects/${WORKER_SOURCE_PREFIX}`);
        expect(reader.inputs.role).to.equal("roles/storage.objectViewer");
        expect(service.dependencies).to.include(reader.urn);
      });

      it("gives the worker every variable of its contract, wired to the cell's AWS stores and role", () => {
        const env = envOf(service);
        expect(Object.keys(env).sort()).to.deep.equal(Object.values(WORKER_ENV).sort());
        expect(env.CELL).to.equal(cell.name);
        expect(env.AWS_REGION).to.equal(cell.aws.region);
        const requests = one(
          inCell("aws:dynamodb/table:Table"),
          "aws:dynamodb/table:Table",
          /subject-rights-requests$/,
        );
        expect(env.REQUESTS_TABLE).to.equal(requests.outputs.name ?? requests.inputs.name);
        const role = one(inCell("aws:iam/role:Role"), "aws:iam/role:Role", /subject-rights-gcp-worker$/);
        expect(env.AWS_ROLE_ARN).to.equal(role.outputs.arn);
        expect(parseRegistry(env.REGISTRY_JSON).cell).to.equal(cell.name);
        const buckets = inside.filter((r) => r.type === BUCKET).map((b) => String(b.inputs.name));
        expect(buckets).to.include.members([env.EXPORTS_BUCKET, env.SUPPRESSION_BUCKET]);
      });

      it("lets the AWS role be assumed by the worker's Google account only", () => {
        const role = one(inCell("aws:iam/role:Role"), "aws:iam/role:Role", /subject-rights-gcp-worker$/);
        const trust = JSON.parse(String(role.inputs.assumeRolePolicy)) as { Statement: Rec[] };
        expect(trust.Statement).to.have.length(1);
        expect(trust.Statement[0].Principal).to.deep.equal({ Federated: "accounts.google.com" });
        expect(trust.Statement[0].Condition).to.deep.equal({
          StringEquals: { "accounts.google.com:sub": worker.outputs.uniqueId },
        });
      });

      it("lets only the schedule's account invoke the worker (no allUsers)", () => {
        const invokers = plan.resources.filter(
          (r) =>
            r.type === INVOKER && (r.inputs.name === service.inputs.name || r.inputs.name === service.outputs.name),
        );
        expect(invokers.map((i) => [i.inputs.role, i.inputs.member])).to.deep.equal([
          ["roles/run.invoker", scheduler.outputs.member],
        ]);
      });

      it("calls POST /run hourly from the cell region with an OIDC token for the service URL", () => {
        const job = one(inside, JOB);
        expect(job.inputs.region).to.equal(cell.gcp.region);
        expect(job.inputs.schedule).to.equal(WORKER_SCHEDULE);
        expect(job.inputs.timeZone).to.equal("Etc/UTC");
        const target = job.inputs.httpTarget as Rec;
        expect(target.httpMethod).to.equal("POST");
        expect(target.uri).to.equal(`${String(service.outputs.uri)}/run`);
        expect(target.oidcToken).to.deep.equal({
          serviceAccountEmail: scheduler.outputs.email,
          audience: service.outputs.uri,
        });
        // The attempt may last as long as the request: a run is not abandoned halfway by its caller.
        expect(job.inputs.attemptDeadline).to.equal((service.inputs.template as Rec).timeout);
        const invoker = one(inside, INVOKER);
        expect(job.dependencies, "created once it may call").to.include(invoker.urn);
      });

      it("keeps access exports private, under CMEK, for EXPORT_EXPIRY_DAYS, without soft-deleted copies", () => {
        const exports = one(inside, BUCKET, /-exports$/);
        const storageKey = plan.resources.find(
          (r) => r.cell === cell.name && r.type === "gcp:kms/cryptoKey:CryptoKey" && /-keys-storage$/.test(r.name),
        );
        for (const b of inside.filter((r) => r.type === BUCKET)) {
          expect(b.inputs.location).to.equal(cell.gcp.region.toUpperCase());
          expect((b.inputs.encryption as Rec).defaultKmsKeyName).to.equal(storageKey?.id);
          expect(b.inputs.publicAccessPrevention).to.equal("enforced");
          expect(b.inputs.uniformBucketLevelAccess).to.equal(true);
        }
        const rules = exports.inputs.lifecycleRules as { action: Rec; condition: Rec }[];
        expect(rules).to.deep.include({
          action: { type: "Delete" },
          condition: { age: EXPORT_EXPIRY_DAYS, withState: "ANY" },
        });
        expect(exports.inputs.softDeletePolicy).to.deep.equal({ retentionDurationSeconds: 0 });
        expect((exports.inputs.labels as Rec)["data-classification"]).to.equal("curated");
      });

      it("grants the exports to the worker (write) and the privacy officers (read), the list to the worker and the collector", () => {
        const grantsOn = (bucket: PlannedResource) =>
          plan.resources
            .filter((r) => r.type === BUCKET_IAM && r.inputs.bucket === bucket.inputs.name)
            .map((g) => `${String(g.inputs.role)} ${String(g.inputs.member)}`)
            .sort();
        const officers = config.personas.privacyOfficers?.gcpMembers ?? [];
        expect(officers, "prod names its privacy officers").to.not.be.empty;
        expect(grantsOn(one(inside, BUCKET, /-exports$/))).to.deep.equal(
          [
            `roles/storage.objectUser ${String(worker.outputs.member)}`,
            ...officers.map((m) => `roles/storage.objectViewer ${m}`),
          ].sort(),
        );
        const collector = plan.resources.find(
          (r) => r.cell === cell.name && r.type === ACCOUNT && /clickstream-collector-sa$/.test(r.name),
        );
        const suppression = one(inside, BUCKET, /-suppression$/);
        expect(grantsOn(suppression)).to.deep.equal(
          [
            `roles/storage.objectUser ${String(worker.outputs.member)}`,
            `roles/storage.objectViewer serviceAccount:${String(collector?.outputs.email)}`,
          ].sort(),
        );
        // The collector is told where the list is: the same bucket and object the worker writes.
        const collectorService = plan.resources.find(
          (r) => r.cell === cell.name && r.type === RUN && /clickstream-collector$/.test(r.name),
        );
        const uri = `gs://${String(suppression.inputs.name)}/${SUPPRESSION_OBJECT}`;
        expect(uri).to.equal(suppressionObjectUri(cell.gcp.project, `lakehouse-prod-${cell.name}`));
        expect(envOf(collectorService as PlannedResource).SUPPRESSION_OBJECT_URI).to.equal(uri);
      });

      it("grants BigQuery least privilege: jobs in the project, WRITER on exactly the registry's GCP datasets", () => {
        const member = String(worker.outputs.member);
        const projectRoles = plan.resources
          .filter((r) => r.type === "gcp:projects/iAMMember:IAMMember" && r.inputs.member === member)
          .map((r) => r.inputs.role);
        expect(projectRoles).to.deep.equal(["roles/bigquery.jobUser"]);
        const writable = plan.resources
          .filter(
            (r) =>
              r.type === "gcp:bigquery/datasetAccess:DatasetAccess" && r.inputs.userByEmail === worker.outputs.email,
          )
          .map((r) => {
            expect(r.inputs.role).to.equal("WRITER");
            return `${String(r.inputs.project)}.${String(r.inputs.datasetId)}`;
          })
          .sort();
        const registry = parseRegistry(envOf(service).REGISTRY_JSON);
        const needed = [...new Set(registry.tables.filter((t) => t.cloud === "gcp").map((t) => t.dataset))].sort();
        expect(needed, "the registry holds GCP tables").to.not.be.empty;
        expect(writable).to.deep.equal(needed);
        // No grant anywhere else names the worker.
        const elsewhere = plan.resources.filter(
          (r) =>
            r.type.startsWith("gcp:") &&
            /IAMMember|IamMember/.test(r.type) &&
            r.inputs.member === member &&
            !inside.some((x) => x.urn === r.urn),
        );
        expect(elsewhere.map((r) => r.name)).to.deep.equal([]);
      });

      it("reads every policy tag on the columns of the registry's GCP tables (DELETE scans them, the export reads them)", () => {
        // BigQuery checks Fine-Grained Reader on the tagged columns a DELETE scans and a SELECT reads
        // (cloud.google.com/bigquery/docs/column-level-security-writes): without it the worker finds no one.
        const member = String(worker.outputs.member);
        const granted = plan.resources
          .filter(
            (r) => r.type === "gcp:datacatalog/policyTagIamMember:PolicyTagIamMember" && r.inputs.member === member,
          )
          .map((r) => {
            expect(r.inputs.role).to.equal("roles/datacatalog.categoryFineGrainedReader");
            return String(r.inputs.policyTag);
          })
          .sort();
        const registry = parseRegistry(envOf(service).REGISTRY_JSON);
        const registered = new Set(
          registry.tables.filter((t) => t.cloud === "gcp").map((t) => `${t.dataset}.${t.table}`),
        );
        const tagsOf = (schema: unknown): string[] =>
          (JSON.parse(String(schema ?? "[]")) as { policyTags?: { names?: string[] }; fields?: unknown[] }[]).flatMap(
            (f) => [...(f.policyTags?.names ?? []), ...(f.fields ? tagsOf(JSON.stringify(f.fields)) : [])],
          );
        const needed = plan.resources
          .filter(
            (r) =>
              r.type === "gcp:bigquery/table:Table" &&
              r.cell === cell.name &&
              registered.has(`${String(r.inputs.project)}.${String(r.inputs.datasetId)}.${String(r.inputs.tableId)}`),
          )
          .flatMap((r) => tagsOf(r.inputs.schema));
        expect(needed, "registered GCP tables carry policy tags").to.not.be.empty;
        expect(granted).to.deep.equal([...new Set(needed)].sort());
      });
    });
  }
});
