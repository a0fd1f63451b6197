/**
 * The GCP subject-rights worker as Cloud Run runs it: functions/subject-rights/gcp-server.ts, packed by
 * the program with its production dependencies (../source-archive.ts, the collector's builder) and run
 * on Google's Node.js base image without a build (ADR 0009). Its deployment contract: `node
 * dist/subject-rights/gcp-server.js` (the package's `start` script), listening on PORT, `POST /run`
 * processing every pending request, configured by the variables below (the names the worker and
 * docs/adr/0013-data-subject-requests.md share).
 */
import type * as gcp from "@pulumi/gcp";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { nodeBaseImage, sourceArchive, type SourceArchive } from "../source-archive";

/** The folder the worker's sources, package.json and tsconfig.build.json live in. */
export const SUBJECT_RIGHTS_SOURCE_DIR = path.join(__dirname, "..", "..", "..", "functions", "subject-rights");

/** The worker's HTTP entry, relative to its folder (its tsconfig.build.json's only build entry). */
export const WORKER_ENTRY_MODULE = "gcp-server.ts";

/** Where the worker's source archives live in the staging bucket; the Cloud Run agent may read this prefix only. */
export const WORKER_SOURCE_PREFIX = "functions/subject-rights/";

/** What Cloud Scheduler calls: one run over every pending request. */
export const WORKER_RUN_PATH = "/run";

/** The worker's variables (fixed by the design; PORT is Cloud Run's own). */
export const WORKER_ENV = {
  requestsTable: "REQUESTS_TABLE",
  auditBucket: "AUDIT_BUCKET",
  awsRegion: "AWS_REGION",
  awsRoleArn: "AWS_ROLE_ARN",
  exportsBucket: "EXPORTS_BUCKET",
  suppressionBucket: "SUPPRESSION_BUCKET",
  registryJson: "REGISTRY_JSON",
  cell: "CELL",
} as const;

/** The archive and the command that starts it (`node <compiled entry>`, no npm in between: signals reach node). */
export function workerArchive(dir: string = SUBJECT_RIGHTS_SOURCE_DIR): {
  archive: SourceArchive;
  command: readonly [string, string];
} {
  const archive = sourceArchive(dir);
  const entry = archive.compiled[WORKER_ENTRY_MODULE];
  if (entry === undefined) throw new Error(`functions/subject-rights: ${WORKER_ENTRY_MODULE} is not a build entry`);
  return { archive, command: ["node", entry] };
}

/** Values of the worker's variables, one per WORKER_ENV key. */
export type WorkerEnvValues = { readonly [K in keyof typeof WORKER_ENV]: pulumi.Input<string> };

/** The worker's one container: the archive on the regional base image, its command and variables. */
export function workerContainer(inputs: {
  readonly region: string;
  readonly source: gcp.storage.BucketObject;
  readonly command: readonly [string, string];
  readonly env: WorkerEnvValues;
}): gcp.types.input.cloudrunv2.ServiceTemplateContainer {
  return {
    // Source deploy without build, exactly as the collector (collector-service.ts, ADR 0009).
    image: "scratch",
    baseImageUri: nodeBaseImage(inputs.region),
    commands: [inputs.command[0]],
    args: [inputs.command[1]],
    sourceCode: {
      cloudStorageSource: {
        bucket: inputs.source.bucket,
        object: inputs.source.name,
        generation: inputs.source.generation.apply((g) => String(g)),
      },
    },
    ports: { containerPort: 8080 },
    // One request at a time on one vCPU; CPU stays allocated while the run waits on BigQuery jobs.
    resources: { limits: { cpu: "1", memory: "1Gi" }, cpuIdle: false, startupCpuBoost: true },
    envs: (Object.keys(WORKER_ENV) as (keyof typeof WORKER_ENV)[]).map((k) => ({
      name: WORKER_ENV[k],
      value: inputs.env[k],
    })),
  };
}
