/**
 * Issue 10, finding 10 and "make the class impossible": provider-documented conflicts, as checks over the
 * recorded plans. Two resources that manage the same cloud object through mechanisms the provider says
 * fight (an IAM member next to an authoritative ACL or policy, an inline block next to its standalone
 * resource, two resources for one singleton setting) pass every mock and break the first real `up`, or
 * flap on every later one. Each row names the provider's own words and where they are; a finding lists
 * both resources and the object they target.
 *
 * Only conflicts that resource types this program uses (or could use next to them) can produce are
 * listed; each check is also run on a two-resource plan that has the conflict, so none passes vacuously.
 */
import { expect } from "chai";
import type { Plan, PlannedResource } from "../../tools/plan/evaluate";
import { LEGACY_DATASET_ROLES } from "../../components/gcp/dataset-grants";
import { planOf } from "../helpers/plan";

interface Conflict {
  readonly id: string;
  /** The provider documentation that states the conflict (Pulumi registry page = the type's .d.ts doc). */
  readonly source: string;
  readonly check: (resources: readonly PlannedResource[]) => string[];
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const present = (v: unknown): boolean =>
  v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0) && v !== "";
const label = (r: PlannedResource): string => `${r.type.split(":").pop()} '${r.name}'`;

/** The GCP project a resource is in (its input, else its provider's). */
const gcpProject = (r: PlannedResource): string => str(r.inputs.project) ?? r.provider?.project ?? "?";
/** The AWS account/region scope a resource is in: its provider (one per cell and account). */
const awsScope = (r: PlannedResource): string => `${r.provider?.urn ?? "default"}|${str(r.inputs.region) ?? ""}`;

/** Groups resources by a key; keys that resolve to undefined are skipped. */
function groupBy(rs: readonly PlannedResource[], key: (r: PlannedResource) => string | undefined) {
  const m = new Map<string, PlannedResource[]>();
  for (const r of rs) {
    const k = key(r);
    if (k !== undefined) m.set(k, [...(m.get(k) ?? []), r]);
  }
  return m;
}

/** The values that name one AWS object (a resource's id, name, arn as the mocks or the program set them). */
function awsNames(r: PlannedResource, ...props: string[]): string[] {
  const out = [r.id, ...props.flatMap((p) => [r.inputs[p], r.outputs[p]])];
  return [...new Set(out.filter((v): v is string => typeof v === "string" && v !== ""))];
}

/**
 * `owner` resources whose inline `fields` are set, and `split` resources that point at the same object
 * through `ref`: the owner's inline block and the standalone resource both manage it.
 */
function inlineVersusSplit(
  resources: readonly PlannedResource[],
  owner: string,
  fields: readonly string[],
  split: readonly string[],
  ref: string,
  ownerNames: readonly string[],
): string[] {
  const out: string[] = [];
  for (const o of resources.filter((r) => r.type === owner)) {
    const inline = fields.filter((f) => present(o.inputs[f]));
    if (inline.length === 0) continue;
    const names = awsNames(o, ...ownerNames);
    for (const s of resources.filter((r) => split.includes(r.type))) {
      const target = s.inputs[ref];
      const targets = Array.isArray(target) ? target : [target];
      if (targets.some((t) => typeof t === "string" && names.includes(t)))
        out.push(`${label(o)} sets ${inline.join(", ")} inline and ${label(s)} manages the same ${ref}`);
    }
  }
  return out;
}

/** Two or more resources of `types` with the same key: one singleton managed twice. */
function singleton(
  resources: readonly PlannedResource[],
  types: readonly string[],
  key: (r: PlannedResource) => string | undefined,
  what: string,
): string[] {
  const out: string[] = [];
  for (const [k, rs] of groupBy(
    resources.filter((r) => types.includes(r.type)),
    key,
  )) {
    if (rs.length > 1) out.push(`${rs.map(label).join(" and ")} all manage the ${what} of ${k}`);
  }
  return out;
}

/** GCP IAM resource families: `<module>/<base>IAM{Policy,Binding,Member}` (any capitalisation of IAM). */
const GCP_IAM = /^gcp:([^/]+)\/([A-Za-z0-9]*?)[Ii][Aa][Mm](Policy|Binding|Member):/;
/** Inputs that say who gets what; every other input names the resource the grant is on. */
const GRANT_INPUTS = new Set(["role", "member", "members", "condition", "policyData"]);

function iamTarget(r: PlannedResource): { family: string; kind: string; target: string } | undefined {
  const m = GCP_IAM.exec(r.type);
  if (!m) return undefined;
  const on = Object.entries(r.inputs)
    .filter(([k]) => !GRANT_INPUTS.has(k))
    .sort(([a], [b]) => a.localeCompare(b));
  const project = r.inputs.project === undefined && m[1] === "projects" ? [["project", gcpProject(r)]] : [];
  return { family: `${m[1]}/${m[2].toLowerCase()}`, kind: m[3], target: JSON.stringify([...project, ...on]) };
}

const BQ_DATASET_IAM = /^gcp:bigquery\/datasetIam(Member|Binding|Policy):/;
const datasetKey = (r: PlannedResource): string | undefined => {
  const id = str(r.inputs.datasetId);
  return id === undefined ? undefined : `${gcpProject(r)}.${id}`;
};

export const PROVIDER_CONFLICTS: readonly Conflict[] = [
  {
    id: "bigquery-dataset-iam-vs-dataset-access",
    source:
      "registry gcp.bigquery.DatasetIamMember/Binding/Policy (google_bigquery_dataset_iam): 'These resources cannot be used with gcp.bigquery.DatasetAccess resources or the access field on gcp.bigquery.Dataset or they will fight over what the policy should be' and 'will remove any authorized view permissions from the dataset'",
    check(resources) {
      const out: string[] = [];
      const iam = groupBy(
        resources.filter((r) => BQ_DATASET_IAM.test(r.type)),
        datasetKey,
      );
      const acl = groupBy(
        resources.filter(
          (r) =>
            r.type === "gcp:bigquery/datasetAccess:DatasetAccess" ||
            (r.type === "gcp:bigquery/dataset:Dataset" && present(r.inputs.accesses)),
        ),
        datasetKey,
      );
      for (const [ds, members] of iam) {
        const others = acl.get(ds);
        if (others) out.push(`dataset ${ds}: ${members.map(label).join(", ")} fight ${others.map(label).join(", ")}`);
      }
      return out;
    },
  },
  {
    id: "bigquery-dataset-access-vs-dataset-accesses",
    source:
      "registry gcp.bigquery.DatasetAccess: 'the dataset resource must either have no defined access blocks or a lifecycle block with ignoreChanges = [access] so they don't fight over which accesses should be on the dataset'",
    check(resources) {
      const datasets = groupBy(
        resources.filter((r) => r.type === "gcp:bigquery/dataset:Dataset" && present(r.inputs.accesses)),
        datasetKey,
      );
      return resources
        .filter((r) => r.type === "gcp:bigquery/datasetAccess:DatasetAccess")
        .flatMap((a) =>
          (datasets.get(datasetKey(a) ?? "") ?? []).map(
            (d) => `${label(d)} sets accesses and ${label(a)} adds to them`,
          ),
        );
    },
  },
  {
    id: "bigquery-dataset-access-legacy-role-form",
    source:
      "registry gcp.bigquery.DatasetAccess: 'You must specify the role field using the legacy format OWNER instead of roles/bigquery.dataOwner ... it will always return the legacy format' (REST Dataset.access[].role legacy mappings)",
    check(resources) {
      return resources
        .filter(
          (r) =>
            r.type === "gcp:bigquery/datasetAccess:DatasetAccess" &&
            str(r.inputs.role) !== undefined &&
            LEGACY_DATASET_ROLES[str(r.inputs.role) ?? ""] !== undefined,
        )
        .map(
          (r) => `${label(r)} uses '${str(r.inputs.role)}': write '${LEGACY_DATASET_ROLES[str(r.inputs.role) ?? ""]}'`,
        );
    },
  },
  {
    id: "gcp-iam-policy-vs-binding-or-member",
    source:
      "registry gcp.storage.BucketIAMPolicy, gcp.pubsub.TopicIAMPolicy/SubscriptionIAMPolicy, gcp.secretmanager.SecretIamPolicy, gcp.kms.CryptoKeyIAMPolicy, gcp.artifactregistry.RepositoryIamPolicy, gcp.projects.IAMPolicy (and every generated IAM family): '<X>IAMPolicy cannot be used in conjunction with <X>IAMBinding and <X>IAMMember or they will fight over what your policy should be'",
    check(resources) {
      const out: string[] = [];
      const byTarget = groupBy(resources, (r) => {
        const t = iamTarget(r);
        return t && `${t.family} ${t.target}`;
      });
      for (const [target, rs] of byTarget) {
        const policies = rs.filter((r) => iamTarget(r)?.kind === "Policy");
        if (policies.length > 0 && rs.length > 1)
          out.push(
            `${target}: ${policies.map(label).join(", ")} is authoritative next to ${
              rs
                .filter((r) => !policies.includes(r))
                .map(label)
                .join(", ") || "another policy"
            }`,
          );
      }
      return out;
    },
  },
  {
    id: "gcp-iam-binding-vs-member-same-role",
    source:
      "registry (every GCP IAM family, e.g. gcp.storage.BucketIAMBinding, gcp.projects.IAMBinding): '<X>IAMBinding resources can be used in conjunction with <X>IAMMember resources only if they do not grant privilege to the same role'",
    check(resources) {
      const out: string[] = [];
      const byRole = groupBy(
        resources.filter((r) => {
          const k = iamTarget(r)?.kind;
          return k === "Binding" || k === "Member";
        }),
        (r) => {
          const t = iamTarget(r);
          return (
            t &&
            `${t.family} ${t.target} role=${str(r.inputs.role) ?? "?"} condition=${JSON.stringify(r.inputs.condition ?? null)}`
          );
        },
      );
      for (const [k, rs] of byRole) {
        const bindings = rs.filter((r) => iamTarget(r)?.kind === "Binding");
        if (bindings.length > 0 && rs.length > 1) out.push(`${k}: ${rs.map(label).join(", ")}`);
      }
      return out;
    },
  },
  {
    id: "gcp-project-audit-config-per-service",
    source:
      "registry gcp.projects.IAMAuditConfig: 'Authoritative for a given service'; gcp.projects.IAMPolicy 'cannot be used in conjunction with ... gcp.projects.IAMAuditConfig'",
    check(resources) {
      const policies = new Set(
        resources.filter((r) => r.type === "gcp:projects/iAMPolicy:IAMPolicy").map((r) => gcpProject(r)),
      );
      const audit = resources.filter((r) => r.type === "gcp:projects/iAMAuditConfig:IAMAuditConfig");
      return [
        ...singleton(
          audit,
          ["gcp:projects/iAMAuditConfig:IAMAuditConfig"],
          (r) => `${gcpProject(r)} ${str(r.inputs.service)}`,
          "audit config",
        ),
        ...audit.filter((r) => policies.has(gcpProject(r))).map((r) => `${label(r)} next to a project IAMPolicy`),
      ];
    },
  },
  {
    id: "gcp-project-service-disable-on-destroy",
    source:
      "registry gcp.projects.Service, disableOnDestroy: 'If true or unset, disable the service when the resource is destroyed': two resources for one API, and removing either disables it under the other",
    check(resources) {
      const out: string[] = [];
      const byApi = groupBy(
        resources.filter((r) => r.type === "gcp:projects/service:Service"),
        (r) => `${gcpProject(r)} ${str(r.inputs.service)}`,
      );
      for (const [api, rs] of byApi) {
        if (rs.length > 1 && rs.some((r) => r.inputs.disableOnDestroy !== false))
          out.push(`${api}: ${rs.map(label).join(", ")}, one of them disables the API on destroy`);
      }
      return out;
    },
  },
  {
    id: "aws-s3-bucket-inline-vs-split",
    source:
      "registry aws.s3.Bucket: acl, corsRules, grants, lifecycleRules, logging, objectLockConfiguration, policy, replicationConfiguration, serverSideEncryptionConfiguration, versioning, website ... '@deprecated ... Use the aws.s3.Bucket<X> resource instead' (terraform-provider-aws v4 S3 split: the inline argument and the standalone resource both write the same bucket sub-resource)",
    check(resources) {
      const pairs: [string, string][] = [
        ["acl", "aws:s3/bucketAcl:BucketAcl"],
        ["grants", "aws:s3/bucketAcl:BucketAcl"],
        ["corsRules", "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration"],
        ["lifecycleRules", "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"],
        ["logging", "aws:s3/bucketLogging:BucketLogging"],
        ["objectLockConfiguration", "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"],
        ["policy", "aws:s3/bucketPolicy:BucketPolicy"],
        ["replicationConfiguration", "aws:s3/bucketReplicationConfig:BucketReplicationConfig"],
        [
          "serverSideEncryptionConfiguration",
          "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        ],
        ["versioning", "aws:s3/bucketVersioning:BucketVersioning"],
        ["website", "aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration"],
        ["accelerationStatus", "aws:s3/bucketAccelerateConfiguration:BucketAccelerateConfiguration"],
        ["requestPayer", "aws:s3/bucketRequestPaymentConfiguration:BucketRequestPaymentConfiguration"],
      ];
      return pairs.flatMap(([field, split]) =>
        inlineVersusSplit(resources, "aws:s3/bucket:Bucket", [field], [split], "bucket", ["bucket", "arn"]),
      );
    },
  },
  {
    id: "aws-s3-one-configuration-per-bucket",
    source:
      "registry aws.s3.BucketPolicy: 'Only one aws.s3.BucketPolicy resource should be defined per S3 bucket ... PutBucketPolicy ... replaces the entire existing policy'; every Bucket<X> split resource is one Put of a whole bucket sub-resource",
    check(resources) {
      const split = [...new Set(resources.map((r) => r.type))].filter((t) =>
        /^aws:s3\/bucket(Policy|Acl|CorsConfiguration|LifecycleConfiguration|Logging|ObjectLockConfiguration|OwnershipControls|PublicAccessBlock|ReplicationConfig|ServerSideEncryptionConfiguration|Versioning|WebsiteConfiguration|AccelerateConfiguration|RequestPaymentConfiguration|NotificationConfiguration|Notification):/.test(
          t,
        ),
      );
      return split.flatMap((t) =>
        singleton(resources, [t], (r) => str(r.inputs.bucket) && `${awsScope(r)} ${str(r.inputs.bucket)}`, t),
      );
    },
  },
  {
    id: "aws-iam-role-inline-vs-role-policy",
    source:
      "registry aws.iam.RolePolicy: 'For a given role, this resource is incompatible with using the aws.iam.Role resource inlinePolicy argument'; aws.iam.RolePolicyAttachment: 'incompatible with using the aws.iam.Role resource managedPolicyArns argument'",
    check(resources) {
      return [
        ...inlineVersusSplit(
          resources,
          "aws:iam/role:Role",
          ["inlinePolicies"],
          ["aws:iam/rolePolicy:RolePolicy"],
          "role",
          ["name", "arn"],
        ),
        ...inlineVersusSplit(
          resources,
          "aws:iam/role:Role",
          ["managedPolicyArns"],
          ["aws:iam/rolePolicyAttachment:RolePolicyAttachment"],
          "role",
          ["name", "arn"],
        ),
        ...inlineVersusSplit(
          resources,
          "aws:iam/role:Role",
          ["managedPolicyArns"],
          ["aws:iam/policyAttachment:PolicyAttachment"],
          "roles",
          ["name", "arn"],
        ),
      ];
    },
  },
  {
    id: "aws-security-group-inline-vs-rule-resources",
    source:
      "registry aws.ec2.SecurityGroup: 'You should not use the aws.ec2.SecurityGroup resource with in-line rules ... in conjunction with the aws.vpc.SecurityGroupEgressRule and aws.vpc.SecurityGroupIngressRule resources or the aws.ec2.SecurityGroupRule resource'; aws.ec2.DefaultSecurityGroup: 'incompatible with the aws.ec2.SecurityGroupRule resource'",
    check(resources) {
      const rules = [
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
      ];
      return [
        ...inlineVersusSplit(
          resources,
          "aws:ec2/securityGroup:SecurityGroup",
          ["ingress", "egress"],
          rules,
          "securityGroupId",
          [],
        ),
        // The default group's rules are absolute even when empty: any rule resource on it conflicts.
        ...inlineVersusSplit(
          resources.map((r) =>
            r.type === "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
              ? { ...r, inputs: { ...r.inputs, adopted: true } }
              : r,
          ),
          "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
          ["adopted"],
          rules,
          "securityGroupId",
          [],
        ),
      ];
    },
  },
  {
    id: "aws-route-table-inline-vs-route",
    source:
      "registry aws.ec2.RouteTable: 'you cannot use a aws.ec2.RouteTable inline route blocks in conjunction with any aws.ec2.Route resources. Doing so will cause a conflict of rule settings and will overwrite rules'",
    check: (resources) =>
      inlineVersusSplit(
        resources,
        "aws:ec2/routeTable:RouteTable",
        ["routes"],
        ["aws:ec2/route:Route"],
        "routeTableId",
        [],
      ),
  },
  {
    id: "aws-vpc-endpoint-inline-vs-association",
    source:
      "registry aws.ec2.VpcEndpoint: 'Do not use the same resource ID in both a VPC Endpoint resource and a VPC Endpoint Association resource. Doing so will cause a conflict of associations and will overwrite the association'",
    check(resources) {
      const out: string[] = [];
      const assoc: [string, string, string][] = [
        ["routeTableIds", "aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation", "routeTableId"],
        ["subnetIds", "aws:ec2/vpcEndpointSubnetAssociation:VpcEndpointSubnetAssociation", "subnetId"],
        ["securityGroupIds", "aws:ec2/securityGroupAssociation:SecurityGroupAssociation", "securityGroupId"],
      ];
      for (const e of resources.filter((r) => r.type === "aws:ec2/vpcEndpoint:VpcEndpoint")) {
        for (const [field, type, ref] of assoc) {
          const inline = e.inputs[field];
          if (!Array.isArray(inline) || inline.length === 0) continue;
          for (const a of resources.filter((r) => r.type === type)) {
            if (awsNames(e).includes(str(a.inputs.vpcEndpointId) ?? "") && inline.includes(a.inputs[ref]))
              out.push(`${label(e)} lists ${field} inline and ${label(a)} associates ${String(a.inputs[ref])}`);
          }
        }
      }
      return out;
    },
  },
  {
    id: "aws-kms-key-policy-vs-key-policy",
    source:
      "registry aws.kms.Key: 'KMS Key Policy can be configured in either the standalone resource aws.kms.KeyPolicy or with the parameter policy in this resource. Configuring with both will cause inconsistencies and may overwrite configuration'",
    check: (resources) =>
      inlineVersusSplit(resources, "aws:kms/key:Key", ["policy"], ["aws:kms/keyPolicy:KeyPolicy"], "keyId", [
        "keyId",
        "arn",
      ]),
  },
  {
    id: "aws-sns-topic-policy-vs-topic-policy",
    source:
      "registry aws.sns.Topic `policy` and aws.sns.TopicPolicy both set the topic's one Policy attribute (SetTopicAttributes replaces it): the same object managed twice",
    check: (resources) =>
      inlineVersusSplit(resources, "aws:sns/topic:Topic", ["policy"], ["aws:sns/topicPolicy:TopicPolicy"], "arn", [
        "arn",
      ]),
  },
  {
    id: "aws-lakeformation-data-lake-settings-singleton",
    source:
      "registry aws.lakeformation.DataLakeSettings: 'not including admins, createDatabaseDefaultPermissions, createTableDefaultPermissions, parameters, and/or trustedResourceOwners results in the setting being cleared': two resources for one catalog clear each other's admins",
    check: (resources) =>
      singleton(
        resources,
        ["aws:lakeformation/dataLakeSettings:DataLakeSettings"],
        (r) => `${awsScope(r)} catalog ${str(r.inputs.catalogId) ?? "(account default)"}`,
        "Lake Formation settings",
      ),
  },
  {
    id: "aws-glue-catalog-encryption-settings-singleton",
    source:
      "registry aws.glue.DataCatalogEncryptionSettings: one PutDataCatalogEncryptionSettings per catalog; a second resource for the same catalog overwrites the first",
    check: (resources) =>
      singleton(
        resources,
        ["aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings"],
        (r) => `${awsScope(r)} catalog ${str(r.inputs.catalogId) ?? "(account default)"}`,
        "Glue catalog encryption settings",
      ),
  },
];

/** A minimal recorded resource for the self-tests below. */
function res(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  outputs: Record<string, unknown> = {},
): PlannedResource {
  return {
    urn: `urn:pulumi:t::p::lakehouse:gcp:Clickstream$${type}::${name}`,
    type,
    name,
    custom: true,
    inputs,
    outputs: { ...inputs, ...outputs },
    id: str(outputs.id) ?? name,
    dependencies: [],
    propertyDependencies: {},
    protect: false,
    retainOnDelete: false,
  };
}

/** For each conflict: a plan fragment that has it (each check must find it: no vacuous row). */
const WITNESSES: Readonly<Record<string, readonly PlannedResource[]>> = {
  "bigquery-dataset-iam-vs-dataset-access": [
    res("gcp:bigquery/datasetIamMember:DatasetIamMember", "m", {
      project: "p",
      datasetId: "marts",
      role: "roles/bigquery.dataViewer",
      member: "user:a@x",
    }),
    res("gcp:bigquery/datasetAccess:DatasetAccess", "v", { project: "p", datasetId: "marts", view: { tableId: "t" } }),
  ],
  "bigquery-dataset-access-vs-dataset-accesses": [
    res("gcp:bigquery/dataset:Dataset", "d", {
      project: "p",
      datasetId: "raw",
      accesses: [{ role: "OWNER", specialGroup: "projectOwners" }],
    }),
    res("gcp:bigquery/datasetAccess:DatasetAccess", "a", {
      project: "p",
      datasetId: "raw",
      role: "READER",
      userByEmail: "sa@x",
    }),
  ],
  "bigquery-dataset-access-legacy-role-form": [
    res("gcp:bigquery/datasetAccess:DatasetAccess", "a", {
      project: "p",
      datasetId: "raw",
      role: "roles/bigquery.dataViewer",
      userByEmail: "sa@x",
    }),
  ],
  "gcp-iam-policy-vs-binding-or-member": [
    res("gcp:storage/bucketIAMPolicy:BucketIAMPolicy", "p", { bucket: "b", policyData: "{}" }),
    res("gcp:storage/bucketIAMMember:BucketIAMMember", "m", {
      bucket: "b",
      role: "roles/storage.objectViewer",
      member: "user:a@x",
    }),
  ],
  "gcp-iam-binding-vs-member-same-role": [
    res("gcp:pubsub/topicIAMBinding:TopicIAMBinding", "b", {
      project: "p",
      topic: "t",
      role: "roles/pubsub.publisher",
      members: ["user:a@x"],
    }),
    res("gcp:pubsub/topicIAMMember:TopicIAMMember", "m", {
      project: "p",
      topic: "t",
      role: "roles/pubsub.publisher",
      member: "user:b@x",
    }),
  ],
  "gcp-project-audit-config-per-service": [
    res("gcp:projects/iAMAuditConfig:IAMAuditConfig", "a", { project: "p", service: "bigquery.googleapis.com" }),
    res("gcp:projects/iAMAuditConfig:IAMAuditConfig", "b", { project: "p", service: "bigquery.googleapis.com" }),
  ],
  "gcp-project-service-disable-on-destroy": [
    res("gcp:projects/service:Service", "a", { project: "p", service: "pubsub.googleapis.com" }),
    res("gcp:projects/service:Service", "b", {
      project: "p",
      service: "pubsub.googleapis.com",
      disableOnDestroy: false,
    }),
  ],
  "aws-s3-bucket-inline-vs-split": [
    res("aws:s3/bucket:Bucket", "b", { bucket: "raw", versioning: { enabled: true } }),
    res("aws:s3/bucketVersioning:BucketVersioning", "v", {
      bucket: "raw",
      versioningConfiguration: { status: "Enabled" },
    }),
  ],
  "aws-s3-one-configuration-per-bucket": [
    res("aws:s3/bucketPolicy:BucketPolicy", "p1", { bucket: "raw", policy: "{}" }),
    res("aws:s3/bucketPolicy:BucketPolicy", "p2", { bucket: "raw", policy: "{}" }),
  ],
  "aws-iam-role-inline-vs-role-policy": [
    res("aws:iam/role:Role", "r", { name: "job", inlinePolicies: [{ name: "x", policy: "{}" }] }),
    res("aws:iam/rolePolicy:RolePolicy", "rp", { role: "job", policy: "{}" }),
  ],
  "aws-security-group-inline-vs-rule-resources": [
    res("aws:ec2/securityGroup:SecurityGroup", "sg", { ingress: [{ fromPort: 443 }] }, { id: "sg-1" }),
    res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "r", { securityGroupId: "sg-1", fromPort: 80 }),
  ],
  "aws-route-table-inline-vs-route": [
    res("aws:ec2/routeTable:RouteTable", "rt", { routes: [{ cidrBlock: "0.0.0.0/0" }] }, { id: "rtb-1" }),
    res("aws:ec2/route:Route", "r", { routeTableId: "rtb-1", destinationCidrBlock: "10.0.0.0/8" }),
  ],
  "aws-vpc-endpoint-inline-vs-association": [
    res("aws:ec2/vpcEndpoint:VpcEndpoint", "e", { routeTableIds: ["rtb-1"] }, { id: "vpce-1" }),
    res("aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation", "a", {
      vpcEndpointId: "vpce-1",
      routeTableId: "rtb-1",
    }),
  ],
  "aws-kms-key-policy-vs-key-policy": [
    res("aws:kms/key:Key", "k", { policy: "{}" }, { id: "key-1", keyId: "key-1" }),
    res("aws:kms/keyPolicy:KeyPolicy", "kp", { keyId: "key-1", policy: "{}" }),
  ],
  "aws-sns-topic-policy-vs-topic-policy": [
    res("aws:sns/topic:Topic", "t", { policy: "{}" }, { arn: "arn:aws:sns:r:1:t" }),
    res("aws:sns/topicPolicy:TopicPolicy", "tp", { arn: "arn:aws:sns:r:1:t", policy: "{}" }),
  ],
  "aws-lakeformation-data-lake-settings-singleton": [
    res("aws:lakeformation/dataLakeSettings:DataLakeSettings", "a", { admins: ["arn:a"] }),
    res("aws:lakeformation/dataLakeSettings:DataLakeSettings", "b", { admins: ["arn:b"] }),
  ],
  "aws-glue-catalog-encryption-settings-singleton": [
    res("aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings", "a", {}),
    res("aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings", "b", {}),
  ],
};

describe("provider-documented conflicts (issue 10, finding 10)", () => {
  describe("each check finds its conflict on a plan that has it", () => {
    for (const c of PROVIDER_CONFLICTS) {
      it(c.id, () => {
        const witness = WITNESSES[c.id];
        expect(witness, `a witness for ${c.id}`).to.not.equal(undefined);
        expect(c.check(witness)).to.have.length.greaterThan(0);
        // ... and, for a conflict between two resources, not on either of them alone.
        if (witness.length > 1)
          for (const r of witness) expect(c.check([r]), `${c.id} on ${r.name} alone`).to.deep.equal([]);
      });
    }
  });

  for (const stack of ["dev", "prod"]) {
    describe(`the ${stack} plan`, () => {
      let plan: Plan;
      before(async () => {
        plan = await planOf(stack);
      });

      for (const c of PROVIDER_CONFLICTS) {
        it(`${c.id} (${c.source.slice(0, 60)}...)`, () => {
          expect(c.check(plan.resources), c.source).to.deep.equal([]);
        });
      }

      it("grants on BigQuery datasets use one mechanism, DatasetAccess, and no Dataset sets accesses", () => {
        expect(plan.resources.filter((r) => BQ_DATASET_IAM.test(r.type)).map(label)).to.deep.equal([]);
        expect(
          plan.resources
            .filter((r) => r.type === "gcp:bigquery/dataset:Dataset" && present(r.inputs.accesses))
            .map(label),
        ).to.deep.equal([]);
        // The authorised views the dataset IAM resources would remove are there to be kept.
        expect(
          plan.resources.filter(
            (r) => r.type === "gcp:bigquery/datasetAccess:DatasetAccess" && r.inputs.view !== undefined,
          ),
        ).to.have.length.greaterThan(0);
      });
    });
  }
});
