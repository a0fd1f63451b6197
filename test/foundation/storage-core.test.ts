import { expect } from "chai";
import { cellRetention, deriveSizing } from "../../components/config";
import { expiringNoncurrentDays, warehouseNoncurrentDays } from "../../policy/contract";
import type { Plan, PlannedResource } from "../../tools/plan/evaluate";
import { configOf, joinedTo, ofType, planOf } from "../helpers/plan";

const json = (v: unknown): unknown => (typeof v === "string" ? JSON.parse(v) : v);
type Statement = { Sid?: string; Effect: string; Action: string | string[]; Condition?: unknown; Principal?: unknown };

for (const stack of ["dev", "prod"]) {
  const config = configOf(stack);
  describe(`secure storage core (${stack})`, () => {
    let plan: Plan;
    before(async () => {
      plan = await planOf(stack);
    });

    for (const cell of config.cells) {
      const retention = cellRetention(config, cell.name);
      const prefix = `lakehouse-${config.environment}-${cell.name}`;
      const bucketName = (purpose: string) => `${prefix}-${purpose}-${cell.aws.accountId}`;

      describe(`cell ${cell.name}: AWS`, () => {
        const keyArn = (alias: string): string => {
          const a = ofType(plan, "aws:kms/alias:Alias", cell.name).find(
            (x) => x.inputs.name === `alias/${prefix}-${alias}`,
          );
          expect(a, `alias ${alias}`).to.exist;
          const key = ofType(plan, "aws:kms/key:Key", cell.name).find((k) => k.id === a!.inputs.targetKeyId)!;
          return String(key.outputs.arn);
        };

        it("has a lake key and a logs key, both rotating, with named actions only in their policies", () => {
          const keys = ofType(plan, "aws:kms/key:Key", cell.name);
          expect(keys.length).to.be.at.least(2);
          for (const k of keys) {
            expect(k.inputs.enableKeyRotation, k.name).to.equal(true);
            const policy = json(k.inputs.policy) as { Statement: Statement[] };
            for (const s of policy.Statement) {
              const actions = ([] as string[]).concat(s.Action);
              expect(
                actions.filter((a) => a.includes("*")),
                `${k.name} ${s.Sid}`,
              ).to.deep.equal([]);
            }
          }
          expect(keyArn("lake")).to.match(new RegExp(`^arn:aws:kms:${cell.aws.region}:${cell.aws.accountId}:key/`));
        });

        const purposes = ["landing", "raw", "warehouse", "query-results", "audit", "access-logs"];
        it("has the landing, raw, warehouse, audit, access-log and query-results buckets", () => {
          const names = ofType(plan, "aws:s3/bucket:Bucket", cell.name).map((b) => b.inputs.bucket);
          expect(names).to.include.members(purposes.map(bucketName));
        });

        it("joins every bucket to SSE-KMS with bucket keys, versioning, a full public access block, BucketOwnerEnforced, a TLS-only policy and a lifecycle", () => {
          for (const bucket of ofType(plan, "aws:s3/bucket:Bucket", cell.name)) {
            const name = bucket.inputs.bucket as string;
            const one = (type: string): PlannedResource => {
              const found = joinedTo(plan, type, "bucket", name);
              expect(found, `${type} for ${name}`).to.have.length(1);
              return found[0];
            };
            const sse = one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration");
            const rule = (sse.inputs.rules as Record<string, unknown>[])[0] as {
              applyServerSideEncryptionByDefault: { sseAlgorithm: string; kmsMasterKeyId: string };
              bucketKeyEnabled: boolean;
            };
            expect(rule.applyServerSideEncryptionByDefault.sseAlgorithm).to.equal("aws:kms");
            expect([keyArn("lake"), keyArn("logs")]).to.include(rule.applyServerSideEncryptionByDefault.kmsMasterKeyId);
            expect(rule.bucketKeyEnabled).to.equal(true);
            expect(one("aws:s3/bucketVersioning:BucketVersioning").inputs.versioningConfiguration).to.deep.equal({
              status: "Enabled",
            });
            const pab = one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs;
            expect([
              pab.blockPublicAcls,
              pab.blockPublicPolicy,
              pab.ignorePublicAcls,
              pab.restrictPublicBuckets,
            ]).to.deep.equal([true, true, true, true]);
            expect(one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs.rule).to.deep.equal({
              objectOwnership: "BucketOwnerEnforced",
            });
            const policy = json(one("aws:s3/bucketPolicy:BucketPolicy").inputs.policy) as { Statement: Statement[] };
            const tls = policy.Statement.find((s) => s.Sid === "DenyInsecureTransport")!;
            expect(tls.Effect).to.equal("Deny");
            expect(tls.Condition).to.deep.equal({ Bool: { "aws:SecureTransport": "false" } });
            const lc = one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs.rules as {
              expiration?: { days: number };
              noncurrentVersionExpiration: { noncurrentDays: number };
            }[];
            expect(lc[0].noncurrentVersionExpiration.noncurrentDays, name).to.be.a("number");
            expect(bucket.inputs.forceDestroy).to.equal(false);
          }
        });

        it("takes lifecycle days from the retention config, with noncurrent versions gone within the erasure SLA", () => {
          const lifecycle = (purpose: string) =>
            (
              joinedTo(
                plan,
                "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                "bucket",
                bucketName(purpose),
              )[0].inputs.rules as {
                expiration?: { days: number };
                noncurrentVersionExpiration: { noncurrentDays: number };
              }[]
            )[0];
          expect(lifecycle("raw").expiration).to.deep.equal({ days: retention.raw });
          expect(lifecycle("landing").expiration).to.deep.equal({ days: retention.raw });
          expect(lifecycle("audit").expiration).to.deep.equal({ days: retention.audit });
          expect(lifecycle("access-logs").expiration).to.deep.equal({ days: retention.logs });
          // Iceberg owns deletion of live warehouse files.
          expect(lifecycle("warehouse").expiration).to.equal(undefined);
          // Old versions get what the erasure bound leaves after the expiry, or after snapshot expiry in the
          // warehouse (policy/contract/erasure-bounds.ts).
          for (const p of ["landing", "raw", "warehouse", "query-results"]) {
            const expiry = lifecycle(p).expiration?.days;
            expect(lifecycle(p).noncurrentVersionExpiration.noncurrentDays).to.equal(
              expiry === undefined
                ? warehouseNoncurrentDays(config.erasureSlaDays)
                : expiringNoncurrentDays(config.erasureSlaDays, expiry),
            );
            expect(lifecycle(p).noncurrentVersionExpiration.noncurrentDays).to.be.below(config.erasureSlaDays);
          }
        });

        it("logs every bucket's access into the access-log bucket (which itself does not log to itself)", () => {
          for (const p of purposes.filter((x) => x !== "access-logs")) {
            const logging = joinedTo(plan, "aws:s3/bucketLogging:BucketLogging", "bucket", bucketName(p));
            expect(logging, p).to.have.length(1);
            expect(logging[0].inputs.targetBucket).to.equal(bucketName("access-logs"));
          }
          expect(joinedTo(plan, "aws:s3/bucketLogging:BucketLogging", "bucket", bucketName("access-logs"))).to.be.empty;
        });

        it(`locks the audit bucket in ${config.protect ? "COMPLIANCE" : "GOVERNANCE"} mode for the audit retention`, () => {
          const audit = ofType(plan, "aws:s3/bucket:Bucket", cell.name).find(
            (b) => b.inputs.bucket === bucketName("audit"),
          )!;
          expect(audit.inputs.objectLockEnabled).to.equal(true);
          const lock = joinedTo(
            plan,
            "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
            "bucket",
            bucketName("audit"),
          );
          expect(lock[0].inputs.rule).to.deep.equal({
            defaultRetention: { mode: config.protect ? "COMPLIANCE" : "GOVERNANCE", days: retention.audit },
          });
        });

        it("records S3 data events of the lake buckets with a KMS-encrypted, validated CloudTrail trail into the audit bucket", () => {
          const [trail] = ofType(plan, "aws:cloudtrail/trail:Trail", cell.name);
          expect(trail.inputs.s3BucketName).to.equal(bucketName("audit"));
          expect(trail.inputs.kmsKeyId).to.equal(keyArn("logs"));
          expect(trail.inputs.enableLogFileValidation).to.equal(true);
          expect(trail.inputs.isMultiRegionTrail).to.equal(false);
          const selectors = trail.inputs.advancedEventSelectors as {
            fieldSelectors: { field: string; equals?: string[]; startsWiths?: string[] }[];
          }[];
          const data = selectors.find((s) =>
            s.fieldSelectors.some((f) => f.field === "eventCategory" && f.equals?.[0] === "Data"),
          )!;
          const arns = data.fieldSelectors.find((f) => f.field === "resources.ARN")!.startsWiths;
          expect(arns).to.have.members(
            ["landing", "raw", "warehouse", "query-results"].map((p) => `arn:aws:s3:::${bucketName(p)}/`),
          );
        });

        it("encrypts the Glue catalog and creates the raw, curated and marts databases, Lake Formation-only", () => {
          const [enc] = ofType(plan, "aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings", cell.name);
          const settings = enc.inputs.dataCatalogEncryptionSettings as {
            encryptionAtRest: { catalogEncryptionMode: string; sseAwsKmsKeyId: string };
            connectionPasswordEncryption: { returnConnectionPasswordEncrypted: boolean };
          };
          expect(settings.encryptionAtRest).to.deep.equal({
            catalogEncryptionMode: "SSE-KMS",
            sseAwsKmsKeyId: keyArn("lake"),
          });
          expect(settings.connectionPasswordEncryption.returnConnectionPasswordEncrypted).to.equal(true);
          const dbs = ofType(plan, "aws:glue/catalogDatabase:CatalogDatabase", cell.name).map((d) => d.inputs.name);
          const p = `${config.environment}_${cell.name}`;
          expect(dbs).to.include.members([`${p}_raw`, `${p}_curated`, `${p}_marts`]);
          const [lf] = ofType(plan, "aws:lakeformation/dataLakeSettings:DataLakeSettings", cell.name);
          expect(lf.inputs.createDatabaseDefaultPermissions ?? []).to.deep.equal([]);
          expect(lf.inputs.createTableDefaultPermissions ?? []).to.deep.equal([]);
        });

        it("forces the analysts' Athena workgroup to KMS-encrypted results and a scan cutoff from scale", () => {
          const wg = ofType(plan, "aws:athena/workgroup:Workgroup", cell.name).find(
            (w) => w.inputs.name === `${prefix}-analysts`,
          )!;
          const c = wg.inputs.configuration as {
            enforceWorkgroupConfiguration: boolean;
            bytesScannedCutoffPerQuery: number;
            resultConfiguration: {
              outputLocation: string;
              encryptionConfiguration: { encryptionOption: string; kmsKeyArn: string };
            };
          };
          expect(c.enforceWorkgroupConfiguration).to.equal(true);
          expect(c.resultConfiguration.encryptionConfiguration).to.deep.equal({
            encryptionOption: "SSE_KMS",
            kmsKeyArn: keyArn("lake"),
          });
          expect(c.resultConfiguration.outputLocation).to.equal(`s3://${bucketName("query-results")}/athena/`);
          const sources = config.sources.transactional.filter((s) => s.cell === cell.name).length;
          expect(c.bytesScannedCutoffPerQuery).to.equal(deriveSizing(config.scale, sources).athenaBytesScannedCutoff);
        });
      });

      describe(`cell ${cell.name}: GCP`, () => {
        it("rotates every Cloud KMS key within 90 days, in a key ring in the cell region", () => {
          const [ring] = ofType(plan, "gcp:kms/keyRing:KeyRing", cell.name);
          expect(ring.inputs.location).to.equal(cell.gcp.region);
          const keys = ofType(plan, "gcp:kms/cryptoKey:CryptoKey", cell.name);
          expect(keys.map((k) => k.inputs.name)).to.include.members([
            "bigquery",
            "storage",
            "secrets",
            "pubsub",
            "dataflow",
            "vertex",
          ]);
          for (const k of keys) {
            const seconds = Number(String(k.inputs.rotationPeriod).replace(/s$/, ""));
            expect(seconds, k.name).to.be.within(86_400, 90 * 86_400);
            expect(k.inputs.deletionPolicy).to.equal(config.protect ? "PREVENT" : "DELETE");
          }
        });

        it("grants each key to the service agent that encrypts with it", () => {
          const grants = ofType(plan, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", cell.name);
          const keyIdOf = (n: string) =>
            ofType(plan, "gcp:kms/cryptoKey:CryptoKey", cell.name).find((k) => k.inputs.name === n)!.id;
          const membersOf = (n: string) =>
            grants.filter((g) => g.inputs.cryptoKeyId === keyIdOf(n)).map((g) => String(g.inputs.member));
          expect(membersOf("bigquery")[0]).to.match(
            /^serviceAccount:bq-\d+@bigquery-encryption\.iam\.gserviceaccount\.com$/,
          );
          expect(membersOf("storage")[0]).to.match(/@gs-project-accounts\.iam\.gserviceaccount\.com$/);
          expect(membersOf("secrets")[0]).to.match(/@gcp-sa-secretmanager\.iam\.gserviceaccount\.com$/);
          expect(membersOf("dataflow")).to.have.length(2);
          for (const g of grants) expect(g.inputs.role).to.equal("roles/cloudkms.cryptoKeyEncrypterDecrypter");
        });

        it("limits resource locations with the gcp.resourceLocations org policy and turns on Data Access logs", () => {
          const [policy] = ofType(plan, "gcp:orgpolicy/policy:Policy", cell.name);
          expect(policy.inputs.name).to.equal(`projects/${cell.gcp.project}/policies/gcp.resourceLocations`);
          const allowed = (policy.inputs.spec as { rules: { values: { allowedValues: string[] } }[] }).rules[0].values
            .allowedValues;
          expect(allowed).to.include(`in:${cell.gcp.region}-locations`);
          const audits = ofType(plan, "gcp:projects/iAMAuditConfig:IAMAuditConfig", cell.name);
          expect(audits.map((a) => a.inputs.service)).to.have.members([
            "bigquery.googleapis.com",
            "storage.googleapis.com",
          ]);
          for (const a of audits) {
            expect((a.inputs.auditLogConfigs as { logType: string }[]).map((c) => c.logType)).to.include.members([
              "DATA_READ",
              "DATA_WRITE",
            ]);
          }
        });

        it("creates clickstream_raw, curated and marts datasets in region with CMEK, expirations and time travel from config", () => {
          const bqKey = ofType(plan, "gcp:kms/cryptoKey:CryptoKey", cell.name).find(
            (k) => k.inputs.name === "bigquery",
          )!.id;
          const classOf = { clickstream_raw: "clickstream", curated: "curated", marts: "marts" } as const;
          const datasets = ofType(plan, "gcp:bigquery/dataset:Dataset", cell.name);
          for (const [id, cls] of Object.entries(classOf)) {
            const d = datasets.find((x) => x.inputs.datasetId === id);
            expect(d, id).to.exist;
            expect(d!.inputs.location).to.equal(cell.gcp.region);
            expect(d!.inputs.defaultEncryptionConfiguration).to.deep.equal({ kmsKeyName: bqKey });
            // Whole tables never expire by age: that would drop the events table and the authorized views.
            expect(d!.inputs.defaultTableExpirationMs).to.equal(undefined);
            expect(d!.inputs.defaultPartitionExpirationMs).to.equal(retention[cls] * 86_400_000);
            expect(d!.inputs.maxTimeTravelHours).to.equal(String(config.bigqueryTimeTravelHours));
          }
          for (const d of datasets.filter((x) => !x.inputs.externalDatasetReference)) {
            expect(d.inputs.defaultEncryptionConfiguration, String(d.inputs.datasetId)).to.have.property("kmsKeyName");
          }
        });

        it("creates a private, CMEK, uniform-access staging bucket with lifecycle", () => {
          const storageKey = ofType(plan, "gcp:kms/cryptoKey:CryptoKey", cell.name).find(
            (k) => k.inputs.name === "storage",
          )!.id;
          for (const b of ofType(plan, "gcp:storage/bucket:Bucket", cell.name)) {
            expect(b.inputs.location).to.equal(cell.gcp.region.toUpperCase());
            expect(b.inputs.encryption).to.deep.equal({ defaultKmsKeyName: storageKey });
            expect(b.inputs.uniformBucketLevelAccess).to.equal(true);
            expect(b.inputs.publicAccessPrevention).to.equal("enforced");
            expect((b.inputs.lifecycleRules as unknown[]).length).to.be.at.least(2);
          }
        });
      });

      describe(`cell ${cell.name}: pseudonymisation key`, () => {
        it("stores one random 256-bit key in Secret Manager (region, CMEK) and Secrets Manager (KMS), same value", () => {
          const name = `${prefix}-pseudonymisation-key`;
          const gcpSecret = ofType(plan, "gcp:secretmanager/secret:Secret", cell.name).find(
            (s) => s.inputs.secretId === name,
          )!;
          const secretsKey = ofType(plan, "gcp:kms/cryptoKey:CryptoKey", cell.name).find(
            (k) => k.inputs.name === "secrets",
          )!.id;
          expect(gcpSecret.inputs.replication).to.deep.equal({
            userManaged: {
              replicas: [{ location: cell.gcp.region, customerManagedEncryption: { kmsKeyName: secretsKey } }],
            },
          });
          const awsSecret = ofType(plan, "aws:secretsmanager/secret:Secret", cell.name).find(
            (s) => s.inputs.name === name,
          )!;
          expect(String(awsSecret.inputs.kmsKeyId)).to.match(/^arn:aws:kms:/);
          const gcpValue = ofType(plan, "gcp:secretmanager/secretVersion:SecretVersion", cell.name).find(
            (v) => v.inputs.secret === gcpSecret.id,
          )!.inputs.secretData;
          const awsValue = ofType(plan, "aws:secretsmanager/secretVersion:SecretVersion", cell.name).find(
            (v) => v.inputs.secretId === awsSecret.id,
          )!.inputs.secretString;
          expect(gcpValue).to.be.a("string").with.length(64);
          expect(awsValue).to.equal(gcpValue);
          const [bytes] = ofType(plan, "random:index/randomBytes:RandomBytes", cell.name);
          expect(bytes.inputs.length).to.equal(32);
        });
      });
    }
  });
}
