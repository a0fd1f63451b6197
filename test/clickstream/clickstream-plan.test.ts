/**
 * The clickstream layer on the recorded offline plans of the repository stacks: per cell, every piece
 * from the collector to the notebooks, with the inputs that make it compliant and correctly sized.
 */
import { apiOf } from "../../components/gcp/api-requirements";
import { expect } from "chai";
import { deriveSizing } from "../../components/config/sizing";
import { collectorInstances, MEASURED_EVENTS_PER_SECOND_PER_INSTANCE } from "../../functions/collector/sizing";
import { IDENTIFYING_TAGS, UDF_SCHEMA_FILE } from "../../components/gcp/clickstream/clickstream-table";
import {
  endpointId,
  FEATURE_SYNC_MINUTES,
  featureStoreNodes,
  FETCH_FEATURES_PERMISSION,
  PREDICT_PERMISSION,
  syncCron,
} from "../../components/gcp/clickstream/ml-serving";
import { notebookFiles } from "../../components/gcp/clickstream/notebooks-bucket";
import { pipIndexUrl, PYPI_REPOSITORY_ID } from "../../components/gcp/clickstream/package-mirror";
import {
  NOTEBOOK_METADATA_KEYS,
  POST_STARTUP_OBJECT,
  postStartupScript,
} from "../../components/gcp/clickstream/workbench-startup";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { COLLECTOR_CONTRACT, COLLECTOR_SOURCE_DIR } from "../../components/gcp/clickstream/collector-service";
import { collectorArchive, collectorBaseImage } from "../../components/gcp/clickstream/collector-archive";
import { configOf, descendants, planOf } from "../helpers/plan";
import type { Plan, PlannedResource } from "../../tools/plan/evaluate";

const PRIMITIVE = /^roles\/(owner|editor|viewer)$/;

function layer(plan: Plan, cell: string): PlannedResource[] {
  const root = plan.resources.filter((r) => r.type === "lakehouse:gcp:Clickstream" && r.cell === cell);
  expect(root, `Clickstream component in ${cell}`).to.have.length(1);
  return descendants(plan, root[0].urn);
}

/** Resources of a type in the cell's clickstream layer (other layers may have the same types). */
function mine(plan: Plan, type: string, cell: string): PlannedResource[] {
  return layer(plan, cell).filter((r) => r.type === type);
}

function only(
  plan: Plan,
  type: string,
  cell: string,
  pred: (r: PlannedResource) => boolean = () => true,
): PlannedResource {
  const found = mine(plan, type, cell).filter(pred);
  expect(found, `${type} in cell ${cell}`).to.have.length(1);
  return found[0];
}

/** The notification channels of a cell's clickstream alerts. */
const ofChannels = (plan: Plan, cell: string): string[] =>
  layer(plan, cell)
    .filter((r) => r.type === "gcp:monitoring/notificationChannel:NotificationChannel")
    .map((r) => String(r.outputs.name));

for (const stack of ["dev", "prod"]) {
  describe(`clickstream layer on the ${stack} plan`, () => {
    let plan: Plan;
    const config = configOf(stack);
    before(async () => {
      plan = await planOf(stack);
    });

    for (const cell of config.cells) {
      const region = cell.gcp.region;
      const project = cell.gcp.project;
      const prefix = `lakehouse-${config.environment}-${cell.name}`;
      const sizing = deriveSizing(config.scale);
      const retention = { ...config.retention, ...(cell.retention ?? {}) };

      describe(`cell ${cell.name} (${region})`, () => {
        it("creates every cloud resource through the cell's GCP provider, in the cell's project", () => {
          const custom = layer(plan, cell.name).filter((r) => r.custom);
          expect(custom.length).to.be.greaterThan(40);
          for (const r of custom) {
            expect(r.provider?.isDefault, `${r.type} ${r.name}`).to.equal(false);
            expect(r.provider?.name, `${r.type} ${r.name}`).to.equal(`${cell.name}-gcp`);
            expect(r.provider?.region).to.equal(region);
            expect(r.provider?.project).to.equal(project);
          }
        });

        it("puts every regional resource in the cell region (never another region)", () => {
          for (const r of layer(plan, cell.name).filter((x) => x.custom)) {
            for (const key of ["region", "location"]) {
              const v = r.inputs[key];
              // Cloud Storage reports bucket locations upper-case (secure-bucket.ts writes them so).
              if (typeof v === "string")
                expect(v.toLowerCase().startsWith(region), `${r.type} ${r.name}.${key}=${v}`).to.equal(true);
            }
          }
        });

        it("grants no primitive role and never allUsers except the one labelled public invoker", () => {
          const iam = layer(plan, cell.name).filter((r) => /IAM|Iam/.test(r.type) && typeof r.inputs.role === "string");
          expect(iam.length).to.be.greaterThan(10);
          for (const r of iam) {
            expect(r.inputs.role as string, r.name).not.to.match(PRIMITIVE);
            if (r.inputs.member === "allUsers" || r.inputs.member === "allAuthenticatedUsers") {
              expect(r.type).to.equal("gcp:cloudrunv2/serviceIamMember:ServiceIamMember");
              expect(r.inputs.role).to.equal("roles/run.invoker");
              expect(r.inputs.name).to.equal(`${prefix}-collector`);
              expect(r.parent, "the invoker belongs to the collector component").to.match(/CollectorService::/);
            }
          }
          const publicGrants = iam.filter((r) => r.inputs.member === "allUsers");
          expect(publicGrants).to.have.length(1);
        });

        it("every cloud resource waits for its own API (a fresh project works on the first up)", () => {
          const custom = layer(plan, cell.name).filter((r) => r.custom && r.type !== "gcp:projects/service:Service");
          expect(custom.length).to.be.greaterThan(20);
          for (const r of custom) {
            const api = apiOf(r.type, r.inputs);
            expect(api, `${r.type} has an API in api-requirements.ts`).to.be.a("string");
            expect(
              r.dependencies.some(
                (d) =>
                  d.includes("gcp:projects/service:Service::") &&
                  d.endsWith(`${cell.name}-gcp-apis-${api!.split(".")[0]}`),
              ),
              `${r.type} ${r.name} waits for ${api}`,
            ).to.equal(true);
          }
        });

        it("protects what holds data or protects it (tables, topics, subscriptions, taxonomy, notebooks) exactly when the stack asks", () => {
          const stateful = [
            "gcp:bigquery/table:Table",
            "gcp:pubsub/topic:Topic",
            "gcp:pubsub/subscription:Subscription",
            "gcp:datacatalog/taxonomy:Taxonomy",
            "gcp:datacatalog/policyTag:PolicyTag",
            "gcp:workbench/instance:Instance",
            "gcp:kms/cryptoKey:CryptoKey",
            "gcp:secretmanager/secret:Secret",
            "gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore",
          ];
          const found = layer(plan, cell.name).filter((r) => stateful.includes(r.type));
          expect(new Set(found.map((r) => r.type)).size).to.equal(stateful.length);
          for (const r of found) {
            expect(r.protect, `${r.type} ${r.name}`).to.equal(config.protect);
            expect(r.retainOnDelete, `${r.type} ${r.name}`).to.equal(config.protect);
          }
          expect(only(plan, "gcp:cloudrunv2/service:Service", cell.name).inputs.deletionProtection).to.equal(
            config.protect,
          );
        });

        describe("collector service", () => {
          const run = "gcp:cloudrunv2/service:Service";

          it("runs the uploaded collector archive on the regional Node.js base image, with its own CMEK", () => {
            const svc = only(plan, run, cell.name);
            const t = svc.inputs.template as Record<string, any>;
            expect(svc.inputs.location).to.equal(region);
            expect(svc.inputs.name).to.equal(`${prefix}-collector`);
            const key = `projects/${project}/locations/${region}/keyRings/${prefix}/cryptoKeys/collector`;
            expect(t.encryptionKey).to.equal(key);
            // Nothing is built, so there is no image registry (docs/adr/0009-collector-image-build.md); the one
            // repository of the layer is the notebooks' PyPI mirror.
            expect(
              mine(plan, "gcp:artifactregistry/repository:Repository", cell.name).filter(
                (r) => r.inputs.format !== "PYTHON",
              ),
            ).to.deep.equal([]);
            const hash = collectorArchive().hash;
            expect(t.containers[0].image).to.equal("scratch");
            expect(t.containers[0].baseImageUri).to.equal(collectorBaseImage(region));
            expect(t.containers[0].ports).to.deep.equal({ containerPort: COLLECTOR_CONTRACT.port });
            const source = only(plan, "gcp:storage/bucketObject:BucketObject", cell.name, (r) =>
              String(r.inputs.name).startsWith("functions/collector/"),
            );
            expect(source.inputs.name).to.equal(`functions/collector/source-${hash}.zip`);
            expect(source.inputs.bucket).to.equal(`${project}-${prefix}-staging`);
          });

          it("matches the collector's deployment contract (runtime, start command)", () => {
            const pkg = JSON.parse(readFileSync(path.join(COLLECTOR_SOURCE_DIR, "package.json"), "utf8"));
            expect(pkg.engines.node).to.equal("24.x");
            expect(COLLECTOR_CONTRACT.runtime).to.equal("nodejs24");
            expect(pkg.scripts.start).to.equal("node dist/server.js");
            expect(COLLECTOR_CONTRACT.entryPoint).to.equal(pkg.scripts.start);
          });

          it("takes the pseudonymisation key and the write keys as Secret Manager env vars, never plain values", () => {
            const svc = only(plan, run, cell.name);
            const envs = (svc.inputs.template as any).containers[0].envs as {
              name: string;
              value?: string;
              valueSource?: any;
            }[];
            const byName = Object.fromEntries(envs.map((e) => [e.name, e]));
            expect(byName.COLLECTOR_HMAC_KEY.value).to.equal(undefined);
            expect(byName.COLLECTOR_HMAC_KEY.valueSource.secretKeyRef).to.deep.equal({
              secret: `projects/${project}/secrets/${prefix}-pseudonymisation-key`,
              version: "latest",
            });
            expect(byName.COLLECTOR_WRITE_KEYS.value).to.equal(undefined);
            expect(byName.COLLECTOR_WRITE_KEYS.valueSource.secretKeyRef).to.deep.equal({
              secret: `projects/${project}/secrets/${prefix}-collector-write-keys`,
              version: "latest",
            });
            expect(byName.COLLECTOR_TOPIC.value).to.equal(`projects/${project}/topics/${prefix}-clickstream`);
            expect(byName.GOOGLE_CLOUD_PROJECT.value).to.equal(project);
            const secret = only(
              plan,
              "gcp:secretmanager/secret:Secret",
              cell.name,
              (r) => r.inputs.secretId === `${prefix}-collector-write-keys`,
            );
            const replicas = (secret.inputs.replication as any).userManaged.replicas;
            expect(replicas).to.have.length(1);
            expect(replicas[0].location).to.equal(region);
            expect(replicas[0].customerManagedEncryption.kmsKeyName).to.match(/cryptoKeys\/secrets$/);
          });

          it("runs as its own account with publisher on the topic, accessor on its two secrets and reader of the suppression list only", () => {
            const svc = only(plan, run, cell.name);
            const email = (svc.inputs.template as any).serviceAccount as string;
            expect(email).to.equal(
              `lh-${config.environment}-${cell.name}-collector@${project}.iam.gserviceaccount.com`,
            );
            const grants = plan.resources.filter(
              (r) => r.cell === cell.name && r.inputs.member === `serviceAccount:${email}`,
            );
            const suppressionBucket = plan.resources.find(
              (r) =>
                r.cell === cell.name &&
                r.type === "gcp:storage/bucket:Bucket" &&
                r.name.endsWith("-rights-suppression"),
            )?.inputs.name;
            expect(suppressionBucket, "suppression bucket").to.be.a("string");
            const summary = grants
              .map((g) => `${g.type}|${g.inputs.role}|${g.inputs.topic ?? g.inputs.secretId ?? g.inputs.bucket}`)
              .sort();
            expect(summary).to.deep.equal(
              [
                `gcp:pubsub/topicIAMMember:TopicIAMMember|roles/pubsub.publisher|${prefix}-clickstream`,
                `gcp:secretmanager/secretIamMember:SecretIamMember|roles/secretmanager.secretAccessor|projects/${project}/secrets/${prefix}-collector-write-keys`,
                `gcp:secretmanager/secretIamMember:SecretIamMember|roles/secretmanager.secretAccessor|projects/${project}/secrets/${prefix}-pseudonymisation-key`,
                // The erased subjects' pseudonyms (components/gcp/rights): read, never written.
                `gcp:storage/bucketIAMMember:BucketIAMMember|roles/storage.objectViewer|${suppressionBucket}`,
              ].sort(),
            );
          });

          it("is public on purpose (all ingress, labelled tracking-api) and sized by the collector's formula", () => {
            const svc = only(plan, run, cell.name);
            expect(svc.inputs.ingress).to.equal("INGRESS_TRAFFIC_ALL");
            expect((svc.inputs.labels as any)["public-endpoint"]).to.equal("tracking-api");
            const t = svc.inputs.template as Record<string, any>;
            const expected = collectorInstances({
              eventsPerDay: config.scale.clickstreamEventsPerDay,
              peakFactor: config.scale.peakFactor,
            });
            expect(t.scaling).to.deep.equal({ minInstanceCount: expected.min, maxInstanceCount: expected.max });
            expect(t.maxInstanceRequestConcurrency).to.equal(250);
            // The same formula seen from the stack's derived peak: enough instances for peak x headroom.
            expect(expected.max).to.equal(
              Math.max(1, Math.ceil((sizing.eventsPerSecond.peak * 1.5) / MEASURED_EVENTS_PER_SECOND_PER_INSTANCE)),
            );
            expect(expected.max * MEASURED_EVENTS_PER_SECOND_PER_INSTANCE).to.be.at.least(sizing.eventsPerSecond.peak);
            expect(svc.inputs.description).to.contain(`${Math.ceil(sizing.eventsPerSecond.peak)} events/s`);
          });
        });

        describe("Pub/Sub", () => {
          // The replay window: 7 days, never beyond retention or the erasure SLA (Pub/Sub cannot erase one subject).
          const retentionDays = Math.min(7, retention.clickstream, config.erasureSlaDays, 31);

          it("topic: protobuf schema with JSON encoding, CMEK, storage policy = [cell region] enforced in transit, retention", () => {
            const topic = only(
              plan,
              "gcp:pubsub/topic:Topic",
              cell.name,
              (r) => r.inputs.name === `${prefix}-clickstream`,
            );
            const schema = only(plan, "gcp:pubsub/schema:Schema", cell.name);
            expect(schema.inputs.type).to.equal("PROTOCOL_BUFFER");
            expect(schema.inputs.definition).to.match(/optional string messageId = 1;/);
            expect(topic.inputs.schemaSettings).to.deep.equal({ schema: schema.id, encoding: "JSON" });
            expect(topic.inputs.kmsKeyName).to.match(
              new RegExp(`locations/${region}/keyRings/${prefix}/cryptoKeys/pubsub$`),
            );
            expect(topic.inputs.messageStoragePolicy).to.deep.equal({
              allowedPersistenceRegions: [region],
              enforceInTransit: true,
            });
            expect(topic.inputs.messageRetentionDuration).to.equal(`${retentionDays * 86_400}s`);
          });

          it("subscription: dead-letter topic (CMEK, regional), retry backoff, never expires, agent may forward", () => {
            const dlq = only(
              plan,
              "gcp:pubsub/topic:Topic",
              cell.name,
              (r) => r.inputs.name === `${prefix}-clickstream-dlq`,
            );
            expect(dlq.inputs.kmsKeyName).to.match(/cryptoKeys\/pubsub$/);
            expect(dlq.inputs.messageStoragePolicy).to.deep.equal({
              allowedPersistenceRegions: [region],
              enforceInTransit: true,
            });
            const sub = only(
              plan,
              "gcp:pubsub/subscription:Subscription",
              cell.name,
              (r) => r.inputs.name === `${prefix}-clickstream-dataflow`,
            );
            expect(sub.inputs.topic).to.equal(`projects/${project}/topics/${prefix}-clickstream`);
            expect(sub.inputs.deadLetterPolicy).to.deep.equal({ deadLetterTopic: dlq.id, maxDeliveryAttempts: 10 });
            expect(sub.inputs.retryPolicy).to.deep.equal({ minimumBackoff: "10s", maximumBackoff: "600s" });
            expect(sub.inputs.expirationPolicy).to.deep.equal({ ttl: "" });
            expect(sub.inputs.messageRetentionDuration).to.equal(`${Math.min(retentionDays, 7) * 86_400}s`);
            const agent = /^serviceAccount:service-\d+@gcp-sa-pubsub\.iam\.gserviceaccount\.com$/;
            const pub = only(plan, "gcp:pubsub/topicIAMMember:TopicIAMMember", cell.name, (r) =>
              agent.test(String(r.inputs.member)),
            );
            expect(pub.inputs).to.include({ topic: `${prefix}-clickstream-dlq`, role: "roles/pubsub.publisher" });
            const subs = only(plan, "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember", cell.name, (r) =>
              agent.test(String(r.inputs.member)),
            );
            expect(subs.inputs).to.include({
              subscription: `${prefix}-clickstream-dataflow`,
              role: "roles/pubsub.subscriber",
            });
          });
        });

        describe("Dataflow", () => {
          it("launches PubSub_to_BigQuery_Flex from the cell region's template bucket with the UDF from staging", () => {
            const job = only(plan, "gcp:dataflow/flexTemplateJob:FlexTemplateJob", cell.name);
            expect(job.inputs.containerSpecGcsPath).to.equal(
              `gs://dataflow-templates-${region}/latest/flex/PubSub_to_BigQuery_Flex`,
            );
            expect(job.inputs.region).to.equal(region);
            const params = job.inputs.parameters as Record<string, string>;
            expect(params.inputSubscription).to.equal(
              `projects/${project}/subscriptions/${prefix}-clickstream-dataflow`,
            );
            expect(params.outputTableSpec).to.equal(`${project}:clickstream_raw.events`);
            expect(params.outputDeadletterTable).to.equal(`${project}:clickstream_raw.events_deadletter`);
            const udf = only(plan, "gcp:storage/bucketObject:BucketObject", cell.name, (r) =>
              String(r.inputs.name).startsWith("dataflow/udf/"),
            );
            expect(params.javascriptTextTransformGcsPath).to.equal(`gs://${udf.inputs.bucket}/${udf.inputs.name}`);
            expect(udf.inputs.bucket).to.equal(`${project}-${prefix}-staging`);
            expect(params.javascriptTextTransformFunctionName).to.equal("clickstreamToRow");
            expect(udf.inputs.name).to.equal("dataflow/udf/clickstream_udf.js");
            expect(job.inputs.tempLocation).to.equal(`gs://${udf.inputs.bucket}/dataflow/temp`);
            expect(job.inputs.stagingLocation).to.equal(`gs://${udf.inputs.bucket}/dataflow/staging`);
          });

          it("streams on private workers in a Private-Google-Access subnet of the cell region, CMEK, sized from scale", () => {
            const job = only(plan, "gcp:dataflow/flexTemplateJob:FlexTemplateJob", cell.name);
            expect(job.inputs.enableStreamingEngine).to.equal(true);
            expect(job.inputs.ipConfiguration).to.equal("WORKER_IP_PRIVATE");
            expect(job.inputs.kmsKeyName).to.equal(
              `projects/${project}/locations/${region}/keyRings/${prefix}/cryptoKeys/dataflow`,
            );
            expect(job.inputs.maxWorkers).to.equal(sizing.dataflowMaxWorkers);
            const subnet = only(plan, "gcp:compute/subnetwork:Subnetwork", cell.name);
            expect(subnet.inputs.region).to.equal(region);
            expect(subnet.inputs.privateIpGoogleAccess).to.equal(true);
            expect(job.inputs.subnetwork).to.equal(
              `https://www.googleapis.com/compute/v1/projects/${project}/regions/${region}/subnetworks/${subnet.inputs.name}`,
            );
            const net = only(plan, "gcp:compute/network:Network", cell.name);
            expect(net.inputs.autoCreateSubnetworks).to.equal(false);
            const fw = only(plan, "gcp:compute/firewall:Firewall", cell.name);
            expect(fw.inputs.allows).to.deep.equal([{ protocol: "tcp", ports: ["12345-12346"] }]);
            expect(fw.inputs.sourceRanges).to.equal(undefined);
            expect(fw.inputs.sourceServiceAccounts).to.deep.equal([job.inputs.serviceAccountEmail]);
          });

          it("runs as its own account: worker, subscriber on its subscription, dataEditor on clickstream_raw, staging objects", () => {
            const job = only(plan, "gcp:dataflow/flexTemplateJob:FlexTemplateJob", cell.name);
            const email = job.inputs.serviceAccountEmail as string;
            expect(email).to.equal(`lh-${config.environment}-${cell.name}-dataflow@${project}.iam.gserviceaccount.com`);
            // IAM grants name `serviceAccount:<email>`; dataset ACL entries (DatasetAccess) name the e-mail.
            const grants = plan.resources.filter(
              (r) =>
                r.cell === cell.name &&
                (r.inputs.member === `serviceAccount:${email}` || r.inputs.userByEmail === email),
            );
            const summary = grants
              .map(
                (g) =>
                  `${g.inputs.role}|${g.inputs.subscription ?? g.inputs.datasetId ?? g.inputs.bucket ?? g.inputs.project}`,
              )
              .sort();
            expect(summary).to.deep.equal(
              [
                `WRITER|clickstream_raw`,
                `roles/dataflow.worker|${project}`,
                `roles/pubsub.subscriber|${prefix}-clickstream-dataflow`,
                `roles/pubsub.viewer|${prefix}-clickstream-dataflow`,
                `roles/storage.objectUser|${project}-${prefix}-staging`,
              ].sort(),
            );
          });
        });

        describe("BigQuery", () => {
          it("events table: DAY partitions on event_timestamp expiring with clickstream retention, clustered, CMEK", () => {
            const t = only(plan, "gcp:bigquery/table:Table", cell.name, (r) => r.inputs.tableId === "events");
            expect(t.inputs.datasetId).to.equal("clickstream_raw");
            expect(t.inputs.timePartitioning).to.deep.equal({
              type: "DAY",
              field: "event_timestamp",
              expirationMs: retention.clickstream * 86_400_000,
            });
            expect(t.inputs.requirePartitionFilter).to.equal(true);
            expect(t.inputs.clusterings).to.deep.equal(["user_pseudo_id", "anonymous_pseudo_id", "event_type"]);
            expect(t.inputs.encryptionConfiguration).to.deep.equal({
              kmsKeyName: `projects/${project}/locations/${region}/keyRings/${prefix}/cryptoKeys/bigquery`,
            });
            expect(t.inputs.deletionProtection).to.equal(config.protect);
            expect((t.inputs.labels as any)["data-classification"]).to.equal("clickstream");
          });

          it("policy tags from a fine-grained taxonomy in the cell region on every identifying column, and only there", () => {
            const taxonomy = only(plan, "gcp:datacatalog/taxonomy:Taxonomy", cell.name);
            expect(taxonomy.inputs.region).to.equal(region);
            expect(taxonomy.inputs.activatedPolicyTypes).to.deep.equal(["FINE_GRAINED_ACCESS_CONTROL"]);
            const tags = mine(plan, "gcp:datacatalog/policyTag:PolicyTag", cell.name).filter(
              (r) => r.inputs.taxonomy === taxonomy.id,
            );
            expect(tags.map((t) => t.inputs.displayName).sort()).to.deep.equal(Object.keys(IDENTIFYING_TAGS).sort());
            const tagName = (display: string) => tags.find((t) => t.inputs.displayName === display)!.outputs.name;
            const t = only(plan, "gcp:bigquery/table:Table", cell.name, (r) => r.inputs.tableId === "events");
            const columns = JSON.parse(t.inputs.schema as string) as {
              name: string;
              policyTags?: { names: string[] };
            }[];
            const tagged = Object.fromEntries(
              columns.filter((c) => c.policyTags).map((c) => [c.name, c.policyTags!.names]),
            );
            for (const id of ["user_pseudo_id", "anonymous_pseudo_id", "previous_pseudo_id", "group_pseudo_id"]) {
              expect(tagged[id], id).to.deep.equal([tagName("pseudonymous-id")]);
            }
            expect(tagged.ip_truncated).to.deep.equal([tagName("network-address")]);
            for (const q of ["user_agent", "context", "traits"])
              expect(tagged[q], q).to.deep.equal([tagName("quasi-identifier")]);
            // Same columns, types and modes as the UDF's own schema (the row contract).
            const udf = JSON.parse(readFileSync(UDF_SCHEMA_FILE, "utf8")) as {
              name: string;
              type: string;
              mode: string;
            }[];
            expect(columns.map((c: any) => `${c.name}:${c.type}:${c.mode}`)).to.deep.equal(
              udf.map((c) => `${c.name}:${c.type}:${c.mode}`),
            );
            expect(tagged).not.to.have.property("event_type");
            expect(tagged).not.to.have.property("event_timestamp");
          });

          it("dead-letter table: CMEK, partitions expiring with the same retention", () => {
            const t = only(
              plan,
              "gcp:bigquery/table:Table",
              cell.name,
              (r) => r.inputs.tableId === "events_deadletter",
            );
            expect((t.inputs.encryptionConfiguration as any).kmsKeyName).to.match(/cryptoKeys\/bigquery$/);
            expect((t.inputs.timePartitioning as any).expirationMs).to.equal(retention.clickstream * 86_400_000);
          });

          it("views: sessions, funnel, last-hour KPIs and ML features over the events table, authorised on clickstream_raw", () => {
            const views = mine(plan, "gcp:bigquery/table:Table", cell.name).filter((r) => r.inputs.view !== undefined);
            expect(views.map((v) => v.inputs.tableId).sort()).to.deep.equal([
              "funnel",
              "kpis_last_hour",
              "sessions",
              "user_features",
            ]);
            for (const v of views) {
              expect(v.inputs.datasetId).to.equal("clickstream_views");
              const view = v.inputs.view as { query: string; useLegacySql: boolean };
              expect(view.useLegacySql).to.equal(false);
              expect(view.query).to.contain(`\`${project}.clickstream_raw.events\``);
              expect(view.query).to.match(
                /WHERE event_timestamp >= TIMESTAMP_SUB\(CURRENT_TIMESTAMP\(\), INTERVAL \d+ (DAY|HOUR)\)/,
              );
              expect(view.query).not.to.match(/\b(ip_truncated|user_agent|traits|context)\b/);
              expect(view.query).not.to.match(/SELECT \*\s+FROM/);
            }
            const ds = only(
              plan,
              "gcp:bigquery/dataset:Dataset",
              cell.name,
              (r) => r.inputs.datasetId === "clickstream_views",
            );
            expect(ds.inputs.location).to.equal(region);
            expect((ds.inputs.defaultEncryptionConfiguration as any).kmsKeyName).to.match(/cryptoKeys\/bigquery$/);
            expect(ds.inputs.defaultTableExpirationMs).to.equal(undefined);
            // The view entries (the Dataflow writer's entry on clickstream_raw is a DatasetAccess too).
            const access = mine(plan, "gcp:bigquery/datasetAccess:DatasetAccess", cell.name).filter(
              (r) => r.inputs.datasetId === "clickstream_raw" && r.inputs.view !== undefined,
            );
            expect(access.map((a) => (a.inputs.view as any).tableId).sort()).to.deep.equal([
              "funnel",
              "kpis_last_hour",
              "sessions",
              "user_features",
            ]);
          });
        });

        it("alerts on dead letters, backlog age, watermark staleness and collector 5xx, on this cell's resources", () => {
          const policies = mine(plan, "gcp:monitoring/alertPolicy:AlertPolicy", cell.name);
          expect(policies).to.have.length(5);
          const filters = policies
            .filter((p) => !/endpoint-no-model$/.test(p.name))
            .map((p) => (p.inputs.conditions as any)[0].conditionThreshold.filter as string);
          expect(filters).to.have.length(4);
          expect(
            filters.some(
              (f) =>
                f.includes(`subscription_id = "${prefix}-clickstream-dlq-hold"`) &&
                f.includes("num_undelivered_messages"),
            ),
          ).to.equal(true);
          expect(
            filters.some(
              (f) =>
                f.includes(`subscription_id = "${prefix}-clickstream-dataflow"`) &&
                f.includes("oldest_unacked_message_age"),
            ),
          ).to.equal(true);
          expect(
            filters.some(
              (f) => f.includes(`job_name = "${prefix}-clickstream-to-bigquery"`) && f.includes("data_watermark_age"),
            ),
          ).to.equal(true);
          expect(
            filters.some(
              (f) => f.includes(`service_name = "${prefix}-collector"`) && f.includes(`response_code_class = "5xx"`),
            ),
          ).to.equal(true);
          for (const p of policies) expect((p.inputs.documentation as any).content).to.be.a("string").and.not.empty;
        });

        it("alerts when the offers endpoint serves no model: replicas absent or below one, on this endpoint", () => {
          const p = only(plan, "gcp:monitoring/alertPolicy:AlertPolicy", cell.name, (r) =>
            /endpoint-no-model$/.test(r.name),
          );
          const id = endpointId(prefix);
          const conditions = p.inputs.conditions as any[];
          expect(conditions).to.have.length(2);
          expect(p.inputs.combiner).to.equal("OR");
          const [absent, below] = [conditions[0].conditionAbsent, conditions[1].conditionThreshold];
          for (const c of [absent, below]) {
            expect(c.filter).to.equal(
              `resource.type = "aiplatform.googleapis.com/Endpoint" AND resource.labels.endpoint_id = "${id}" AND metric.type = "aiplatform.googleapis.com/prediction/online/replicas"`,
            );
            expect(c.aggregations[0].crossSeriesReducer).to.equal("REDUCE_SUM");
          }
          // Metric-absence durations are at least 120 s, in whole minutes.
          expect(parseInt(absent.duration, 10)).to.be.at.least(120);
          expect(parseInt(absent.duration, 10) % 60).to.equal(0);
          expect(below).to.include({ comparison: "COMPARISON_LT", thresholdValue: 1 });
          expect([...(p.inputs.notificationChannels as string[])].sort()).to.deep.equal(
            ofChannels(plan, cell.name).sort(),
          );
        });

        describe("Vertex AI and Workbench", () => {
          it("endpoint in the cell region with the Vertex key; marketing app may only predict on it", () => {
            const ep = only(plan, "gcp:vertex/aiEndpoint:AiEndpoint", cell.name);
            expect(ep.inputs.location).to.equal(region);
            expect(ep.inputs.encryptionSpec).to.deep.equal({
              kmsKeyName: `projects/${project}/locations/${region}/keyRings/${prefix}/cryptoKeys/vertex`,
            });
            expect(ep.inputs.name).to.match(/^[1-9]\d{9}$/);
            const role = only(plan, "gcp:projects/iAMCustomRole:IAMCustomRole", cell.name, (r) =>
              /predict-role$/.test(r.name),
            );
            expect(role.inputs.permissions).to.deep.equal([PREDICT_PERMISSION]);
            const grants = mine(plan, "gcp:vertex/aiEndpointIamMember:AiEndpointIamMember", cell.name);
            expect(grants.map((g) => g.inputs.member)).to.deep.equal(config.personas.marketingApp?.gcpMembers ?? []);
            for (const g of grants) expect(g.inputs.role).to.equal(`projects/${project}/roles/${role.inputs.roleId}`);
          });

          it("the marketing application gets exactly predict on the endpoint and fetch on the feature view in this layer", () => {
            const members = config.personas.marketingApp?.gcpMembers ?? [];
            const roles = mine(plan, "gcp:projects/iAMCustomRole:IAMCustomRole", cell.name);
            const roleName = (r: PlannedResource) => `projects/${project}/roles/${String(r.inputs.roleId)}`;
            const permissionsOf = new Map(roles.map((r) => [roleName(r), r.inputs.permissions as string[]]));
            const fv = only(
              plan,
              "gcp:vertex/aiFeatureOnlineStoreFeatureview:AiFeatureOnlineStoreFeatureview",
              cell.name,
            );
            const ep = only(plan, "gcp:vertex/aiEndpoint:AiEndpoint", cell.name);
            for (const member of members) {
              const held = layer(plan, cell.name).filter((r) => r.inputs.member === member);
              const described = held.map((g) => {
                const on =
                  g.type === "gcp:vertex/aiEndpointIamMember:AiEndpointIamMember"
                    ? `endpoint:${String(g.inputs.endpoint)}`
                    : g.type ===
                        "gcp:vertex/aiFeatureOnlineStoreFeatureviewIamMember:AiFeatureOnlineStoreFeatureviewIamMember"
                      ? `featureView:${String(g.inputs.featureOnlineStore)}/${String(g.inputs.featureView)}`
                      : `${g.type}`;
                return `${on} ${(permissionsOf.get(String(g.inputs.role)) ?? [String(g.inputs.role)]).join(",")}`;
              });
              expect(described.sort(), member).to.deep.equal(
                [
                  `endpoint:${String(ep.inputs.name)} ${PREDICT_PERMISSION}`,
                  `featureView:${String(fv.inputs.featureOnlineStore)}/${String(fv.inputs.name)} ${FETCH_FEATURES_PERMISSION}`,
                ].sort(),
              );
            }
            for (const r of mine(
              plan,
              "gcp:vertex/aiFeatureOnlineStoreFeatureviewIamMember:AiFeatureOnlineStoreFeatureviewIamMember",
              cell.name,
            ))
              expect(members, "only the marketing application reads online features by grant").to.include(
                r.inputs.member,
              );
          });

          it("feature online store (Bigtable autoscaling from scale, CMEK) with a feature view synced from the features view", () => {
            const fs = only(plan, "gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore", cell.name);
            expect(fs.inputs.region).to.equal(region);
            expect(fs.inputs.encryptionSpec).to.deep.equal({
              kmsKeyName: `projects/${project}/locations/${region}/keyRings/${prefix}/cryptoKeys/vertex`,
            });
            const nodes = featureStoreNodes(sizing.eventsPerSecond);
            expect((fs.inputs.bigtable as any).autoScaling).to.include({
              minNodeCount: nodes.min,
              maxNodeCount: nodes.max,
            });
            const fv = only(
              plan,
              "gcp:vertex/aiFeatureOnlineStoreFeatureview:AiFeatureOnlineStoreFeatureview",
              cell.name,
            );
            expect(fv.inputs.region).to.equal(region);
            expect(fv.inputs.featureOnlineStore).to.equal(fs.inputs.name);
            expect(fv.inputs.bigQuerySource).to.deep.equal({
              uri: `bq://${project}.clickstream_views.user_features`,
              entityIdColumns: ["entity_id"],
            });
            // Scheduled, every FEATURE_SYNC_MINUTES (README "Feature freshness" says why not continuous).
            expect(fv.inputs.syncConfig).to.deep.equal({ cron: syncCron(FEATURE_SYNC_MINUTES) });
          });

          it("workbench: no public IP, no IP forwarding, CMEK disks, shielded VM, idle shutdown, in the cell subnetwork", () => {
            const instances = mine(plan, "gcp:workbench/instance:Instance", cell.name);
            expect(instances).to.have.length(config.workbench.instances);
            const subnet = only(plan, "gcp:compute/subnetwork:Subnetwork", cell.name);
            for (const w of instances) {
              expect(String(w.inputs.location)).to.match(new RegExp(`^${region}-[a-z]$`));
              const g = w.inputs.gceSetup as Record<string, any>;
              expect(g.disablePublicIp).to.equal(true);
              expect(g.enableIpForwarding).to.equal(false);
              expect(g.machineType).to.equal(config.workbench.machineType);
              expect(g.shieldedInstanceConfig).to.deep.equal({
                enableSecureBoot: true,
                enableVtpm: true,
                enableIntegrityMonitoring: true,
              });
              for (const d of [g.bootDisk, g.dataDisks]) {
                expect(d.diskEncryption).to.equal("CMEK");
                expect(d.kmsKey).to.equal(
                  `projects/${project}/locations/${region}/keyRings/${prefix}/cryptoKeys/workbench`,
                );
              }
              expect(g.metadata["idle-timeout-seconds"]).to.equal(String(config.workbench.idleTimeoutMinutes * 60));
              expect(g.networkInterfaces[0].subnet).to.contain(`/regions/${region}/subnetworks/${subnet.inputs.name}`);
            }
          });

          it("workbench account: events table (not its dataset), the views, the pseudonym tag only, plus query jobs", () => {
            const w = mine(plan, "gcp:workbench/instance:Instance", cell.name)[0];
            const email = (w.inputs.gceSetup as any).serviceAccounts[0].email as string;
            const grants = layer(plan, cell.name).filter(
              (r) => r.inputs.member === `serviceAccount:${email}` || r.inputs.userByEmail === email,
            );
            const datasets = grants.filter((g) => g.type === "gcp:bigquery/datasetAccess:DatasetAccess");
            expect(datasets.map((d) => `${d.inputs.datasetId}|${d.inputs.role}`)).to.deep.equal([
              "clickstream_views|READER",
            ]);
            const tables = grants.filter((g) => g.type === "gcp:bigquery/iamMember:IamMember");
            expect(tables.map((t) => `${t.inputs.datasetId}.${t.inputs.tableId}|${t.inputs.role}`)).to.deep.equal([
              "clickstream_raw.events|roles/bigquery.dataViewer",
            ]);
            const tagNames = new Map(
              mine(plan, "gcp:datacatalog/policyTag:PolicyTag", cell.name).map((t) => [
                String(t.outputs.name ?? t.outputs.id),
                String(t.inputs.displayName),
              ]),
            );
            const tags = grants.filter((g) => g.type === "gcp:datacatalog/policyTagIamMember:PolicyTagIamMember");
            expect(tags.map((t) => tagNames.get(String(t.inputs.policyTag)))).to.deep.equal(["pseudonymous-id"]);
            for (const t of tags) expect(t.inputs.role).to.equal("roles/datacatalog.categoryFineGrainedReader");
            expect(grants.map((g) => g.inputs.role)).to.include("roles/bigquery.jobUser");
            for (const g of grants) expect(String(g.inputs.role ?? ""), g.name).not.to.match(PRIMITIVE);
          });

          it("PyPI mirror: a remote repository of the public PyPI in the cell region, with its own CMEK key, read by the notebooks only", () => {
            const repo = only(plan, "gcp:artifactregistry/repository:Repository", cell.name);
            expect(repo.inputs).to.deep.include({
              location: region,
              repositoryId: PYPI_REPOSITORY_ID,
              format: "PYTHON",
              mode: "REMOTE_REPOSITORY",
            });
            expect((repo.inputs.remoteRepositoryConfig as any).pythonRepository).to.deep.equal({
              publicRepository: "PYPI",
            });
            expect(repo.inputs.kmsKeyName).to.equal(
              `projects/${project}/locations/${region}/keyRings/${prefix}/cryptoKeys/artifacts`,
            );
            // The key is granted to the Artifact Registry agent, created by generateServiceIdentity first.
            const agent = only(plan, "gcp:projects/serviceIdentity:ServiceIdentity", cell.name, (r) =>
              /pypi-agent$/.test(r.name),
            );
            expect(agent.inputs.service).to.equal("artifactregistry.googleapis.com");
            const keyGrant = only(plan, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", cell.name, (r) =>
              /pypi-key-agent$/.test(r.name),
            );
            expect(keyGrant.inputs.role).to.equal("roles/cloudkms.cryptoKeyEncrypterDecrypter");
            expect(keyGrant.inputs.member).to.equal(agent.outputs.member);
            const w = mine(plan, "gcp:workbench/instance:Instance", cell.name)[0];
            const email = (w.inputs.gceSetup as any).serviceAccounts[0].email as string;
            const readers = mine(plan, "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember", cell.name);
            expect(readers.map((r) => `${r.inputs.member}|${r.inputs.role}`)).to.deep.equal([
              `serviceAccount:${email}|roles/artifactregistry.reader`,
            ]);
            expect(readers[0].inputs).to.deep.include({ location: region, repository: repo.outputs.name });
          });

          it("workbench metadata: the pip index, the post-startup script and every key the notebooks read", () => {
            const script = only(plan, "gcp:storage/bucketObject:BucketObject", cell.name, (r) =>
              /post-startup$/.test(r.name),
            );
            expect(script.inputs.name).to.equal(POST_STARTUP_OBJECT);
            expect(script.inputs.content).to.equal(postStartupScript());
            const bucket = String(script.inputs.bucket);
            const fs = only(plan, "gcp:vertex/aiFeatureOnlineStore:AiFeatureOnlineStore", cell.name);
            for (const w of mine(plan, "gcp:workbench/instance:Instance", cell.name)) {
              const md = (w.inputs.gceSetup as any).metadata as Record<string, string>;
              expect(Object.keys(md)).to.include.members([...NOTEBOOK_METADATA_KEYS]);
              expect(md).to.deep.include({
                "lakehouse-project": project,
                "lakehouse-region": region,
                "lakehouse-events-table": `${project}.clickstream_raw.events`,
                "lakehouse-features-view": `${project}.clickstream_views.user_features`,
                "lakehouse-feature-online-store": fs.inputs.name,
                "lakehouse-feature-view": "user_features",
                "lakehouse-endpoint-id": endpointId(prefix),
                "lakehouse-notebooks-bucket": bucket,
                "lakehouse-model-artifacts": `gs://${bucket}/models/`,
                "lakehouse-vertex-kms-key": `projects/${project}/locations/${region}/keyRings/${prefix}/cryptoKeys/vertex`,
                "lakehouse-pip-index-url": pipIndexUrl(region, project),
                "post-startup-script": `gs://${bucket}/${POST_STARTUP_OBJECT}`,
                "post-startup-script-behavior": "download_and_run_every_start",
              });
              expect(md["lakehouse-pip-index-url"]).to.equal(
                `https://${region}-python.pkg.dev/${project}/${PYPI_REPOSITORY_ID}/simple/`,
              );
            }
          });

          it("notebooks bucket: CMEK, uniform access, no public access, in region, expiring; every notebooks/*.ipynb uploaded", () => {
            const script = only(plan, "gcp:storage/bucketObject:BucketObject", cell.name, (r) =>
              /post-startup$/.test(r.name),
            );
            const bucket = only(
              plan,
              "gcp:storage/bucket:Bucket",
              cell.name,
              (r) => r.outputs.name === script.inputs.bucket,
            );
            expect(bucket.inputs).to.deep.include({
              location: region.toUpperCase(),
              uniformBucketLevelAccess: true,
              publicAccessPrevention: "enforced",
            });
            expect((bucket.inputs.encryption as any).defaultKmsKeyName).to.equal(
              `projects/${project}/locations/${region}/keyRings/${prefix}/cryptoKeys/storage`,
            );
            const ages = (bucket.inputs.lifecycleRules as any[])
              .filter((r) => r.action.type === "Delete")
              .map((r) => r.condition.age)
              .filter((a) => a !== undefined);
            expect(ages).to.deep.equal([retention.clickstream]);
            const uploaded = mine(plan, "gcp:storage/bucketObject:BucketObject", cell.name).filter(
              (o) => o.inputs.bucket === bucket.outputs.name && String(o.inputs.name).startsWith("notebooks/"),
            );
            const files = notebookFiles();
            expect(uploaded.map((o) => o.inputs.name).sort()).to.deep.equal(files.map((f) => `notebooks/${f}`));
            // The notebooks and the package they import (`import offers` fails on the instance without it).
            expect(files).to.include.members(["02-train-propensity.ipynb", "offers/__init__.py"]);
            for (const o of uploaded)
              expect(o.inputs.contentType).to.equal(
                String(o.inputs.name).endsWith(".ipynb") ? "application/x-ipynb+json" : "text/x-python",
              );
            // Read by the notebooks' account; written by it under models/ only.
            const w = mine(plan, "gcp:workbench/instance:Instance", cell.name)[0];
            const sa = `serviceAccount:${(w.inputs.gceSetup as any).serviceAccounts[0].email as string}`;
            const iam = mine(plan, "gcp:storage/bucketIAMMember:BucketIAMMember", cell.name).filter(
              (g) => g.inputs.bucket === bucket.outputs.name && g.inputs.member === sa,
            );
            expect(iam.map((g) => g.inputs.role).sort()).to.deep.equal([
              "roles/storage.objectCreator",
              "roles/storage.objectViewer",
            ]);
            const creator = iam.find((g) => g.inputs.role === "roles/storage.objectCreator")!;
            expect((creator.inputs.condition as any).expression).to.equal(
              `resource.name.startsWith("projects/_/buckets/${String(bucket.outputs.name)}/objects/models/")`,
            );
          });

          it("data scientists may run the notebooks and use Vertex AI", () => {
            const members = config.personas.dataScientists?.gcpMembers ?? [];
            const runners = mine(plan, "gcp:workbench/instanceIamMember:InstanceIamMember", cell.name);
            expect(runners).to.have.length(members.length * config.workbench.instances);
            for (const r of runners) expect(r.inputs.role).to.equal("roles/notebooks.runner");
            const users = mine(plan, "gcp:projects/iAMMember:IAMMember", cell.name).filter(
              (r) => r.inputs.role === "roles/aiplatform.user",
            );
            expect(users.map((u) => u.inputs.member)).to.include.members(members);
          });
        });
      });
    }
  });
}
