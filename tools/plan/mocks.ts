/**
 * Pulumi mocks that answer like the clouds do: ARNs with the provider's region and account, GCP ids and
 * self-links with the provider's project and location, service-agent e-mails from a project number, so
 * that every downstream input of the program is populated with a value of the right shape.
 * An invoke nobody taught the mocks fails loudly: a silent `{}` would hide an unpopulated input.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

type Inputs = Record<string, unknown>;

export interface ProviderRecord {
  readonly urn: string;
  readonly pkg: string;
  readonly name: string;
  readonly inputs: Inputs;
}

const hash = (s: string, n = 8): string => createHash("sha256").update(s).digest("hex").slice(0, n);
const digits = (s: string, n: number): string =>
  (BigInt(`0x${createHash("sha256").update(s).digest("hex").slice(0, 16)}`) % 10n ** BigInt(n))
    .toString()
    .padStart(n, "1");
const uuid = (s: string): string => {
  const h = createHash("sha256").update(s).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};
const str = (v: unknown): string | undefined => (typeof v === "string" && v.length > 0 ? v : undefined);
const obj = (v: unknown): Inputs => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Inputs) : {});

/** The number Google would assign a project id (stable per id, 12 digits). */
export const projectNumber = (projectId: string): string => digits(`project:${projectId}`, 12);

/** Parses `urn:pulumi:stack::project::pulumi:providers:aws::name::id` into its URN and package. */
export function parseProviderRef(ref: string | undefined): { urn: string; pkg: string; name: string } | undefined {
  if (!ref) return undefined;
  const idSep = ref.lastIndexOf("::");
  const urn = ref.slice(0, idSep);
  const parts = urn.split("::");
  const type = (parts[2] ?? "").split("$").pop() ?? "";
  const m = /^pulumi:providers:(.+)$/.exec(type);
  return m ? { urn, pkg: m[1], name: parts[3] ?? "" } : undefined;
}

const camelToKebab = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();

/** Physical name the provider (or Pulumi auto-naming) would choose. */
function physicalName(type: string, name: string, inputs: Inputs): string {
  const explicit =
    str(inputs.name) ??
    str(inputs.bucket) ??
    str(inputs.functionName) ??
    str(inputs.roleName) ??
    str(inputs.datasetId) ??
    str(inputs.tableId) ??
    str(inputs.secretId) ??
    str(inputs.accountId) ??
    str(inputs.topicName) ??
    str(inputs.clusterName) ??
    str(inputs.identifier);
  if (explicit) return explicit;
  // Pulumi auto-naming: logical name plus 7 random hex characters.
  return `${name}-${hash(`${type}:${name}`, 7)}`;
}

/**
 * Outputs a provider computes *inside* an object the program writes (the rest of the object is an
 * input). The engine's planned state marks them unknown in a first preview, which makes the whole
 * object unknown to the program; echoing the inputs alone would hand the program a known object that
 * lacks them. Add a path here when a program `apply` reads such a field.
 */
const NESTED_COMPUTED: Readonly<Record<string, readonly string[]>> = {
  // The Google identity BigQuery creates for an AWS connection (registry gcp.bigquery.Connection, aws.accessRole.identity).
  "gcp:bigquery/connection:Connection": ["aws.accessRole.identity"],
};

function withUnknowns(type: string, inputs: Inputs): Inputs {
  const paths = NESTED_COMPUTED[type];
  if (!paths) return inputs;
  // Copy only the objects on each path (a deep clone would turn nested unknowns into plain objects).
  const state: Inputs = { ...inputs };
  for (const path of paths) {
    const parts = path.split(".");
    let cur = state;
    for (const part of parts.slice(0, -1)) {
      cur[part] = { ...obj(cur[part]) };
      cur = cur[part] as Inputs;
    }
    cur[parts[parts.length - 1]] = pulumi.unknown;
  }
  return state;
}

export interface RecordingMocksOptions {
  /**
   * Answer as the engine does in the first preview of a new stack: a custom resource's id and every
   * output its provider computes are unknown; only the inputs the program wrote come back.
   * @default false
   */
  readonly unknownOutputs?: boolean;
}

export class RecordingMocks implements pulumi.runtime.Mocks {
  readonly providers = new Map<string, ProviderRecord>();
  /** Every invoke answered, in order. */
  readonly invokes: { token: string; provider?: string; inputs: Inputs }[] = [];
  private readonly unknownOutputs: boolean;

  constructor(opts: RecordingMocksOptions = {}) {
    this.unknownOutputs = opts.unknownOutputs ?? false;
  }

  private providerOf(ref: string | undefined): ProviderRecord | undefined {
    const p = parseProviderRef(ref);
    return p ? this.providers.get(p.urn) : undefined;
  }

  private awsContext(args: { provider?: string; inputs: Inputs }): { region: string; account: string } {
    const p = this.providerOf(args.provider)?.inputs ?? {};
    const ids = Array.isArray(p.allowedAccountIds) ? p.allowedAccountIds : [];
    return {
      region: str(args.inputs.region) ?? str(p.region) ?? "us-east-1",
      account: str(ids[0]) ?? "000000000000",
    };
  }

  private gcpContext(args: { provider?: string; inputs: Inputs }): { project: string; region: string } {
    const p = this.providerOf(args.provider)?.inputs ?? {};
    return {
      project: str(args.inputs.project) ?? str(p.project) ?? "unset-project",
      region: str(args.inputs.region) ?? str(args.inputs.location) ?? str(p.region) ?? "us-central1",
    };
  }

  newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: Inputs } {
    const inputs = obj(args.inputs);
    const providerMatch = /^pulumi:providers:(.+)$/.exec(args.type);
    if (providerMatch) {
      // The provider reference the runtime will hand its resources is `<urn>::<id>`; we key by URN.
      return { id: `${args.name}-provider`, state: inputs };
    }
    if (args.custom === false) return { id: undefined, state: {} };
    // Nothing exists yet: the runtime turns a missing id and every property missing from the state into
    // unknowns during preview, exactly as the engine reports a resource it is about to create.
    if (this.unknownOutputs) return { id: undefined, state: withUnknowns(args.type, inputs) };
    const [pkg, mod = "", kind = ""] = args.type.split(":");
    const module = mod.split("/")[0];
    const name = physicalName(args.type, args.name, inputs);
    if (pkg === "aws") return this.awsResource(args, module, kind, name, inputs);
    if (pkg === "gcp") return this.gcpResource(args, module, kind, name, inputs);
    if (pkg === "random") {
      const seed = `${args.type}:${args.name}`;
      const hex = createHash("sha256").update(seed).digest("hex");
      return {
        id: hash(seed, 16),
        state: { ...inputs, hex, base64: Buffer.from(hex, "hex").toString("base64"), result: hex },
      };
    }
    return { id: `${name}-id`, state: inputs };
  }

  private awsResource(
    args: pulumi.runtime.MockResourceArgs,
    module: string,
    kind: string,
    name: string,
    inputs: Inputs,
  ): { id: string; state: Inputs } {
    const { region, account } = this.awsContext({ provider: args.provider, inputs });
    const provider = this.providerOf(args.provider)?.inputs ?? {};
    const tagsAll = { ...obj(obj(provider.defaultTags).tags), ...obj(inputs.tags) };
    const base = { ...inputs, region, tagsAll };
    const regional = (resource: string) => `arn:aws:${module}:${region}:${account}:${resource}`;
    switch (`${module}:${kind}`) {
      case "s3:Bucket":
        return {
          id: name,
          state: {
            ...base,
            bucket: name,
            arn: `arn:aws:s3:::${name}`,
            bucketDomainName: `${name}.s3.amazonaws.com`,
            bucketRegionalDomainName: `${name}.s3.${region}.amazonaws.com`,
            hostedZoneId: "Z7KQH4QJS55SO",
          },
        };
      case "kms:Key": {
        const keyId = uuid(`kms:${account}:${region}:${args.name}`);
        return { id: keyId, state: { ...base, keyId, arn: regional(`key/${keyId}`) } };
      }
      case "kms:Alias":
        return {
          id: name,
          state: { ...base, arn: regional(name), targetKeyArn: regional(`key/${str(inputs.targetKeyId)}`) },
        };
      case "iam:Role":
        return {
          id: name,
          state: {
            ...base,
            name,
            arn: `arn:aws:iam::${account}:role/${name}`,
            uniqueId: `AROA${hash(name, 17).toUpperCase()}`,
          },
        };
      case "iam:Policy":
        return {
          id: `arn:aws:iam::${account}:policy/${name}`,
          state: { ...base, name, arn: `arn:aws:iam::${account}:policy/${name}` },
        };
      case "secretsmanager:Secret": {
        const arn = regional(`secret:${name}-${hash(name, 6)}`);
        return { id: arn, state: { ...base, name, arn } };
      }
      case "secretsmanager:SecretVersion":
        return {
          id: `${str(inputs.secretId)}|${uuid(args.name)}`,
          state: { ...base, versionId: uuid(args.name), arn: str(inputs.secretId) },
        };
      case "cloudtrail:Trail":
        return { id: name, state: { ...base, name, arn: regional(`trail/${name}`), homeRegion: region } };
      case "glue:CatalogDatabase":
        return { id: `${account}:${name}`, state: { ...base, name, arn: regional(`database/${name}`) } };
      case "glue:CatalogTable":
        return {
          id: `${account}:${str(inputs.databaseName)}:${name}`,
          state: { ...base, name, arn: regional(`table/${str(inputs.databaseName)}/${name}`) },
        };
      case "athena:Workgroup":
        return { id: name, state: { ...base, name, arn: regional(`workgroup/${name}`) } };
      case "sns:Topic":
        return { id: regional(name), state: { ...base, name, arn: regional(name) } };
      case "sqs:Queue":
        return {
          id: `https://sqs.${region}.amazonaws.com/${account}/${name}`,
          state: { ...base, name, arn: regional(name), url: `https://sqs.${region}.amazonaws.com/${account}/${name}` },
        };
      case "lambda:Function":
        return {
          id: name,
          state: {
            ...base,
            name,
            arn: regional(`function:${name}`),
            invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${regional(`function:${name}`)}/invocations`,
          },
        };
      case "cloudwatch:LogGroup":
        return { id: name, state: { ...base, name, arn: `arn:aws:logs:${region}:${account}:log-group:${name}` } };
      case "ec2:Vpc":
        return {
          id: `vpc-${hash(name, 17)}`,
          state: {
            ...base,
            arn: regional(`vpc/vpc-${hash(name, 17)}`),
            defaultSecurityGroupId: `sg-${hash(`${name}-default`, 17)}`,
            mainRouteTableId: `rtb-${hash(name, 17)}`,
          },
        };
      case "ec2:Subnet":
        return {
          id: `subnet-${hash(args.name, 17)}`,
          state: { ...base, arn: regional(`subnet/subnet-${hash(args.name, 17)}`) },
        };
      // DMS ARNs end in an opaque upper-case resource id (`arn:aws:dms:<region>:<account>:endpoint:ABC...`).
      case "dms:Endpoint":
      case "dms:S3Endpoint": {
        const arn = regional(`endpoint:${hash(args.name, 26).toUpperCase()}`);
        return { id: str(inputs.endpointId) ?? name, state: { ...base, endpointArn: arn, arn } };
      }
      case "dms:Certificate": {
        const arn = regional(`cert:${hash(args.name, 26).toUpperCase()}`);
        return { id: str(inputs.certificateId) ?? name, state: { ...base, certificateArn: arn } };
      }
      case "dms:ReplicationConfig": {
        const arn = regional(`replication-config:${hash(args.name, 26).toUpperCase()}`);
        return { id: arn, state: { ...base, arn } };
      }
      case "ec2:VpcEndpoint":
        return {
          id: `vpce-${hash(args.name, 17)}`,
          state: {
            ...base,
            arn: regional(`vpc-endpoint/vpce-${hash(args.name, 17)}`),
            ...(inputs.vpcEndpointType === "Gateway" ? { prefixListId: `pl-${hash(args.name, 8)}` } : {}),
          },
        };
      case "ec2:SecurityGroup":
        return {
          id: `sg-${hash(args.name, 17)}`,
          state: { ...base, name, arn: regional(`security-group/sg-${hash(args.name, 17)}`) },
        };
      default: {
        // `arn:aws:<service>:<region>:<account>:<resource-kind>/<name>`: the common ARN shape.
        // Some resources take an `arn` input (an EventTarget's target): the provider echoes it back.
        const arn = str(inputs.arn) ?? regional(`${camelToKebab(kind)}/${name}`);
        return { id: name, state: { ...base, name: str(inputs.name) ?? name, arn } };
      }
    }
  }

  private gcpResource(
    args: pulumi.runtime.MockResourceArgs,
    module: string,
    kind: string,
    name: string,
    inputs: Inputs,
  ): { id: string; state: Inputs } {
    const { project, region } = this.gcpContext({ provider: args.provider, inputs });
    const num = projectNumber(project);
    const provider = this.providerOf(args.provider)?.inputs ?? {};
    const effectiveLabels = { ...obj(provider.defaultLabels), ...obj(inputs.labels) };
    const base = { ...inputs, project, effectiveLabels, pulumiLabels: effectiveLabels };
    const api = "https://www.googleapis.com";
    switch (`${module}:${kind}`) {
      case "kms:KeyRing": {
        const id = `projects/${project}/locations/${region}/keyRings/${name}`;
        return { id, state: { ...base, name } };
      }
      case "kms:CryptoKey": {
        const id = `${str(inputs.keyRing)}/cryptoKeys/${name}`;
        return { id, state: { ...base, name, primaries: [{ name: `${id}/cryptoKeyVersions/1`, state: "ENABLED" }] } };
      }
      case "bigquery:Dataset":
        return {
          id: `projects/${project}/datasets/${name}`,
          state: {
            ...base,
            datasetId: name,
            selfLink: `https://bigquery.googleapis.com/bigquery/v2/projects/${project}/datasets/${name}`,
            etag: hash(name),
          },
        };
      case "bigquery:Table": {
        const ds = str(inputs.datasetId);
        // physicalName() prefers datasetId over tableId; a table's own name is its tableId.
        name = str(inputs.tableId) ?? name;
        return {
          id: `projects/${project}/datasets/${ds}/tables/${name}`,
          state: {
            ...base,
            tableId: name,
            selfLink: `https://bigquery.googleapis.com/bigquery/v2/projects/${project}/datasets/${ds}/tables/${name}`,
          },
        };
      }
      case "storage:Bucket":
        return { id: name, state: { ...base, name, url: `gs://${name}`, selfLink: `${api}/storage/v1/b/${name}` } };
      case "storage:BucketObject": {
        const bucket = str(inputs.bucket);
        return {
          id: `${bucket}-${name}`,
          state: {
            ...base,
            name,
            selfLink: `${api}/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}`,
            mediaLink: `${api}/download/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}`,
            md5hash: hash(name, 22),
            outputName: name,
          },
        };
      }
      case "secretmanager:Secret": {
        const id = `projects/${project}/secrets/${name}`;
        return { id, state: { ...base, secretId: name, name: `projects/${num}/secrets/${name}` } };
      }
      case "secretmanager:SecretVersion": {
        const id = `${str(inputs.secret)}/versions/1`;
        return { id, state: { ...base, name: id, version: "1" } };
      }
      case "projects:ServiceIdentity": {
        const service = str(inputs.service) ?? "unknown.googleapis.com";
        const agent = service.split(".")[0];
        // Most agents are `gcp-sa-<api>`; Dataflow's keeps its older domain (cloud.google.com/iam/docs/service-agents).
        const domain = agent === "dataflow" ? "dataflow-service-producer-prod" : `gcp-sa-${agent}`;
        const email = `service-${num}@${domain}.iam.gserviceaccount.com`;
        return {
          id: `projects/${project}/services/${service}`,
          state: { ...base, email, member: `serviceAccount:${email}` },
        };
      }
      case "serviceaccount:Account": {
        const email = `${str(inputs.accountId)}@${project}.iam.gserviceaccount.com`;
        return {
          id: `projects/${project}/serviceAccounts/${email}`,
          state: {
            ...base,
            email,
            member: `serviceAccount:${email}`,
            name: `projects/${project}/serviceAccounts/${email}`,
            uniqueId: digits(email, 21),
          },
        };
      }
      case "projects:Service":
        return { id: `${project}/${str(inputs.service)}`, state: base };
      case "pubsub:Topic":
        return { id: `projects/${project}/topics/${name}`, state: { ...base, name } };
      case "pubsub:Subscription":
        return { id: `projects/${project}/subscriptions/${name}`, state: { ...base, name } };
      case "pubsub:Schema":
        return { id: `projects/${project}/schemas/${name}`, state: { ...base, name } };
      case "bigquery:Connection": {
        // An AWS connection gets a Google-generated identity the AWS role's trust policy names.
        const location = str(inputs.location) ?? region;
        const connectionId = str(inputs.connectionId) ?? name;
        const id = `projects/${project}/locations/${location}/connections/${connectionId}`;
        const accessRole = obj(obj(inputs.aws).accessRole);
        const aws = str(accessRole.iamRoleId)
          ? { aws: { accessRole: { ...accessRole, identity: digits(`omni:${id}`, 21) } } }
          : {};
        return {
          id,
          state: {
            ...base,
            ...aws,
            connectionId,
            location,
            name: `projects/${num}/locations/${location}/connections/${connectionId}`,
            hasCredential: true,
          },
        };
      }
      case "monitoring:NotificationChannel": {
        const id = `projects/${project}/notificationChannels/${digits(`${project}:${args.name}`, 19)}`;
        return { id, state: { ...base, name: id } };
      }
      case "cloudrunv2:Service": {
        // Cloud Run URLs: https://<service>-<project hash>.<region code>.run.app (deterministic URLs, Cloud Run docs).
        const id = `projects/${project}/locations/${region}/services/${name}`;
        const uri = `https://${name}-${hash(`${project}:${region}`, 10)}.a.run.app`;
        return { id, state: { ...base, name, uri, urls: [uri], uid: uuid(id) } };
      }
      case "vertex:AiEndpoint": {
        // An endpoint's resource name ends in a numeric id that Vertex assigns.
        const endpointId = str(inputs.name) ?? digits(`endpoint:${project}:${args.name}`, 19);
        const id = `projects/${project}/locations/${region}/endpoints/${endpointId}`;
        return { id, state: { ...base, name: endpointId } };
      }
      case "workbench:Instance": {
        const id = `projects/${project}/locations/${str(inputs.location) ?? region}/instances/${name}`;
        const proxyUri = `${hash(id, 16)}-dot-${region}.notebooks.googleusercontent.com`;
        return { id, state: { ...base, name, proxyUri, state: "ACTIVE" } };
      }
      case "orgpolicy:Policy":
        return { id: str(inputs.name) ?? name, state: base };
      default: {
        if (/IAM(Member|Binding|Policy)$|IamMember$|IamBinding$/.test(kind)) {
          return {
            id: `${kind}/${hash(JSON.stringify(inputs), 12)}`,
            state: { ...base, etag: `BwY${hash(JSON.stringify(inputs), 9)}` },
          };
        }
        // `projects/<p>/locations/<region>/<kinds>/<name>`: the common Google resource-name shape.
        const id = `projects/${project}/locations/${region}/${kind.charAt(0).toLowerCase()}${kind.slice(1)}s/${name}`;
        return { id, state: { ...base, name: str(inputs.name) ?? name, selfLink: `${api}/${module}/v1/${id}` } };
      }
    }
  }

  call(args: pulumi.runtime.MockCallArgs): Inputs {
    const inputs = obj(args.inputs);
    this.invokes.push({ token: args.token, provider: parseProviderRef(args.provider)?.urn, inputs });
    switch (args.token) {
      case "gcp:organizations/getProject:getProject": {
        const project = str(inputs.projectId) ?? this.gcpContext({ provider: args.provider, inputs }).project;
        return {
          id: `projects/${project}`,
          projectId: project,
          number: projectNumber(project),
          name: project,
          labels: {},
        };
      }
      case "gcp:bigquery/getDefaultServiceAccount:getDefaultServiceAccount": {
        const { project } = this.gcpContext({ provider: args.provider, inputs });
        const email = `bq-${projectNumber(project)}@bigquery-encryption.iam.gserviceaccount.com`;
        return { id: email, email, member: `serviceAccount:${email}`, project };
      }
      case "gcp:storage/getProjectServiceAccount:getProjectServiceAccount": {
        const { project } = this.gcpContext({ provider: args.provider, inputs });
        const email = `service-${projectNumber(project)}@gs-project-accounts.iam.gserviceaccount.com`;
        return { id: email, emailAddress: email, member: `serviceAccount:${email}`, project };
      }
      case "gcp:storage/getTransferProjectServiceAccount:getTransferProjectServiceAccount": {
        // The Storage Transfer Service agent, with the Google subject id AWS role federation trusts.
        const { project } = this.gcpContext({ provider: args.provider, inputs });
        const email = `project-${projectNumber(project)}@storage-transfer-service.iam.gserviceaccount.com`;
        return {
          id: email,
          email,
          member: `serviceAccount:${email}`,
          subjectId: digits(`sts:${project}`, 21),
          project,
        };
      }
      case "aws:index/getCallerIdentity:getCallerIdentity": {
        const { account } = this.awsContext({ provider: args.provider, inputs });
        return {
          id: account,
          accountId: account,
          arn: `arn:aws:sts::${account}:assumed-role/deployer/pulumi`,
          userId: "AROADEPLOYER:pulumi",
        };
      }
      case "aws:index/getRegion:getRegion": {
        const { region } = this.awsContext({ provider: args.provider, inputs });
        return { id: region, name: region, region, endpoint: `ec2.${region}.amazonaws.com`, description: region };
      }
      case "aws:index/getAvailabilityZones:getAvailabilityZones": {
        const { region } = this.awsContext({ provider: args.provider, inputs });
        const names = ["a", "b", "c"].map((z) => `${region}${z}`);
        return {
          id: region,
          names,
          zoneIds: names.map((_, i) => `${region.replace(/-/g, "")}-az${i + 1}`),
          groupNames: [region],
        };
      }
      case "aws:index/getPartition:getPartition":
        return { id: "aws", partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
      default:
        throw new Error(
          `The offline plan has no mock for invoke '${args.token}'. Teach tools/plan/mocks.ts its realistic result.`,
        );
    }
  }
}
