/**
 * No public access: GDPR Art. 25(2) says by default personal data must not be made accessible "to an
 * indefinite number of natural persons"; LGPD Art. 46 asks for measures against unauthorised access.
 */
import { PUBLIC_ENDPOINT_LABEL } from "../contract";
import { A } from "./articles";
import {
  asArray,
  attachedTo,
  bool,
  effectiveTags,
  get,
  isRecord,
  label,
  list,
  peekStr,
  policyDocument,
  reference,
  str,
  type ResourceRule,
  type ResourceView,
  type StackRule,
} from "./common";

const NO_PUBLIC = [A.gdpr25_2, A.gdpr32_1_b, A.gdpr5_1_f, A.lgpd46, A.lgpd6_vii, A.lgpd49];

const S3_BUCKET = "aws:s3/bucket:Bucket";
const S3_PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
const S3_OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls";
const PAB_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

export const s3PublicAccessBlock: StackRule = {
  kind: "stack",
  name: "s3-no-public-access",
  description: "Every S3 bucket has all four public access block settings on and ACLs disabled.",
  domain: "public-access",
  severity: "critical",
  enforcementLevel: "mandatory",
  articles: NO_PUBLIC,
  remediation:
    "Attach an aws.s3.BucketPublicAccessBlock with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true, and an aws.s3.BucketOwnershipControls with objectOwnership 'BucketOwnerEnforced' so that ACLs cannot grant access. Never set a public canned ACL.",
  resourceTypes: [S3_BUCKET, S3_PAB, S3_OWNERSHIP],
  validate(resources, ctx) {
    for (const p of resources.filter((r) => r.type === S3_PAB)) {
      const off = PAB_FLAGS.filter((f) => bool(p.props, f) !== true);
      if (off.length > 0) ctx.report(`${label(p)} leaves ${off.join(", ")} off.`, p.urn);
    }
    for (const o of resources.filter((r) => r.type === S3_OWNERSHIP)) {
      const own = str(o.props, "rule.objectOwnership");
      if (own !== "BucketOwnerEnforced")
        ctx.report(
          `${label(o)} has objectOwnership '${own ?? "unset"}'; use 'BucketOwnerEnforced' to disable ACLs.`,
          o.urn,
        );
    }
    for (const b of resources.filter((r) => r.type === S3_BUCKET)) {
      if (attachedTo(resources, S3_PAB, "bucket", b, ["bucket", "id"]).length === 0) {
        ctx.report(`${label(b)} has no BucketPublicAccessBlock.`, b.urn);
      }
      const acl = str(b.props, "acl");
      if (acl !== undefined && /public|authenticated-read/.test(acl))
        ctx.report(`${label(b)} has the public ACL '${acl}'.`, b.urn);
    }
  },
};

const PUBLIC_MEMBERS = ["allUsers", "allAuthenticatedUsers"];
/** Invoker roles on the collector's HTTP endpoint: the public edge that receives tracker events. */
const INVOKER_ROLES = ["roles/run.invoker", "roles/cloudfunctions.invoker"];
const INVOKER_TYPES = [
  /^gcp:cloudfunctionsv2\/functionIamMember:/,
  /^gcp:cloudrunv2\/serviceIamMember:/,
  /^gcp:cloudrun\/iamMember:/,
];

/** True if an IAM policy statement allows everyone without a narrowing condition. */
function publicAllow(s: Record<string, unknown>): boolean {
  if (s.Effect !== "Allow" || s.Condition !== undefined) return false;
  const p = s.Principal;
  return p === "*" || (isRecord(p) && asArray(p.AWS).includes("*"));
}

export const noPublicPrincipals: ResourceRule = {
  kind: "resource",
  name: "no-public-principals",
  description: "No IAM grant or resource policy gives access to allUsers, allAuthenticatedUsers or Principal '*'.",
  domain: "public-access",
  severity: "critical",
  enforcementLevel: "mandatory",
  articles: NO_PUBLIC,
  remediation:
    "Grant roles to named groups or service accounts, never to allUsers or allAuthenticatedUsers; in AWS resource and trust policies, name the principals or add a Condition (aws:PrincipalOrgID, aws:SourceArn) that narrows '*'. The only public grant allowed is the invoker role on the clickstream collector's HTTP endpoint, which pseudonymises before anything is stored.",
  resourceTypes: [
    "gcp:*IamMember*",
    "gcp:*IAMMember*",
    "gcp:*IamBinding*",
    "gcp:*IAMBinding*",
    "gcp:bigquery/dataset:Dataset",
    "gcp:bigquery/datasetAccess:DatasetAccess",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:iam/role:Role",
    "aws:sns/topic:Topic",
    "aws:secretsmanager/secret:Secret",
    "aws:kms/key:Key",
  ],
  validate(r, ctx) {
    if (r.type.startsWith("gcp:") && /I[Aa][Mm](Member|Binding)$/.test(r.type)) {
      const members = [str(r.props, "member"), ...list(r.props, "members")].filter(
        (m): m is string => typeof m === "string",
      );
      const role = str(r.props, "role") ?? "";
      for (const m of members.filter((x) => PUBLIC_MEMBERS.includes(x))) {
        if (INVOKER_ROLES.includes(role) && INVOKER_TYPES.some((re) => re.test(r.type))) continue;
        ctx.report(`${label(r)} grants '${role}' to '${m}'.`, r.urn);
      }
      return;
    }
    if (r.type === "gcp:bigquery/dataset:Dataset" || r.type === "gcp:bigquery/datasetAccess:DatasetAccess") {
      const entries = r.type === "gcp:bigquery/dataset:Dataset" ? list(r.props, "accesses") : [r.props];
      for (const e of entries) {
        const who = [str(e, "specialGroup"), str(e, "iamMember"), str(e, "domain")].filter(
          (x): x is string => x !== undefined,
        );
        for (const w of who) {
          if (PUBLIC_MEMBERS.includes(w) || w === "allAuthenticatedUsers")
            ctx.report(`${label(r)} gives dataset access to '${w}'.`, r.urn);
        }
      }
      return;
    }
    const prop = r.type === "aws:iam/role:Role" ? "assumeRolePolicy" : "policy";
    const raw = get(r.props, prop);
    if (raw === undefined) return;
    const doc = policyDocument(raw);
    if (!doc) {
      ctx.report(`${label(r)} has a ${prop} that is not a readable policy document.`, r.urn);
      return;
    }
    doc.Statement.forEach((s, i) => {
      if (publicAllow(s))
        ctx.report(`${label(r)} ${prop} statement ${i} allows Principal '*' without a Condition.`, r.urn);
    });
  },
};

export const noPublicNetwork: ResourceRule = {
  kind: "resource",
  name: "no-public-network-exposure",
  description:
    "Buckets prevent public access; notebooks, Dataflow workers and brokers get no public IP; no ingress is open to the internet.",
  domain: "public-access",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: NO_PUBLIC,
  remediation:
    "Set publicAccessPrevention 'enforced' and uniformBucketLevelAccess true on Cloud Storage buckets. Set gceSetup.disablePublicIp true on Workbench instances, ipConfiguration 'WORKER_IP_PRIVATE' on Dataflow jobs, and keep MSK public access off. Open security groups and firewalls only to the VPC's or the peer's CIDR ranges, never 0.0.0.0/0 or ::/0, and reach cloud APIs through VPC endpoints or Private Google Access.",
  resourceTypes: [
    "gcp:storage/bucket:Bucket",
    "gcp:workbench/instance:Instance",
    "gcp:dataflow/flexTemplateJob:FlexTemplateJob",
    "gcp:dataflow/job:Job",
    "aws:msk/cluster:Cluster",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:ec2/securityGroupRule:SecurityGroupRule",
    "aws:ec2/subnet:Subnet",
    "gcp:compute/firewall:Firewall",
  ],
  validate(r, ctx) {
    const openCidr = (c: unknown): boolean => c === "0.0.0.0/0" || c === "::/0";
    switch (r.type) {
      case "gcp:storage/bucket:Bucket": {
        const pap = str(r.props, "publicAccessPrevention");
        if (pap !== "enforced")
          ctx.report(`${label(r)} has publicAccessPrevention '${pap ?? "inherited"}'; set it to 'enforced'.`, r.urn);
        if (bool(r.props, "uniformBucketLevelAccess") !== true)
          ctx.report(`${label(r)} allows object ACLs: set uniformBucketLevelAccess to true.`, r.urn);
        return;
      }
      case "gcp:workbench/instance:Instance": {
        if (bool(r.props, "gceSetup.disablePublicIp") !== true)
          ctx.report(`${label(r)} gets a public IP: set gceSetup.disablePublicIp to true.`, r.urn);
        list(r.props, "gceSetup.networkInterfaces").forEach((_, i) => {
          if (list(r.props, `gceSetup.networkInterfaces[${i}].accessConfigs`).length > 0) {
            ctx.report(`${label(r)} network interface ${i} has an external access config.`, r.urn);
          }
        });
        return;
      }
      case "gcp:dataflow/flexTemplateJob:FlexTemplateJob":
      case "gcp:dataflow/job:Job": {
        const ip = str(r.props, "ipConfiguration");
        if (ip !== "WORKER_IP_PRIVATE")
          ctx.report(
            `${label(r)} gives workers public IPs (ipConfiguration '${ip ?? "WORKER_IP_PUBLIC"}'); set 'WORKER_IP_PRIVATE'.`,
            r.urn,
          );
        return;
      }
      case "aws:msk/cluster:Cluster": {
        const t = str(r.props, "brokerNodeGroupInfo.connectivityInfo.publicAccess.type") ?? "DISABLED";
        if (t !== "DISABLED") ctx.report(`${label(r)} exposes brokers publicly (publicAccess.type '${t}').`, r.urn);
        return;
      }
      case "aws:ec2/securityGroup:SecurityGroup":
      case "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup":
        list(r.props, "ingress").forEach((_, i) => {
          const cidrs = [
            ...list(r.props, `ingress[${i}].cidrBlocks`),
            ...list(r.props, `ingress[${i}].ipv6CidrBlocks`),
          ];
          if (cidrs.some(openCidr)) ctx.report(`${label(r)} ingress ${i} is open to the internet.`, r.urn);
        });
        return;
      case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
        if (openCidr(str(r.props, "cidrIpv4")) || openCidr(str(r.props, "cidrIpv6")))
          ctx.report(`${label(r)} is open to the internet.`, r.urn);
        return;
      case "aws:ec2/securityGroupRule:SecurityGroupRule":
        if (
          str(r.props, "type") === "ingress" &&
          [...list(r.props, "cidrBlocks"), ...list(r.props, "ipv6CidrBlocks")].some(openCidr)
        ) {
          ctx.report(`${label(r)} is open to the internet.`, r.urn);
        }
        return;
      case "aws:ec2/subnet:Subnet":
        if (bool(r.props, "mapPublicIpOnLaunch") === true)
          ctx.report(`${label(r)} gives instances public IPs: set mapPublicIpOnLaunch to false.`, r.urn);
        return;
      case "gcp:compute/firewall:Firewall": {
        const dir = str(r.props, "direction") ?? "INGRESS";
        if (dir === "INGRESS" && list(r.props, "allows").length > 0 && list(r.props, "sourceRanges").some(openCidr)) {
          ctx.report(`${label(r)} allows ingress from the internet.`, r.urn);
        }
        return;
      }
      default:
        return;
    }
  },
};

const PUBLIC_SERVICE_TYPES: Readonly<Record<string, string>> = {
  "gcp:cloudrunv2/serviceIamMember:ServiceIamMember": "gcp:cloudrunv2/service:Service",
  "gcp:cloudrun/iamMember:IamMember": "gcp:cloudrun/service:Service",
  "gcp:cloudfunctionsv2/functionIamMember:FunctionIamMember": "gcp:cloudfunctionsv2/function:Function",
};

/**
 * The resource rule above lets an `allUsers` invoker grant through on Cloud Run and Cloud Functions;
 * this stack rule decides whether it may: only when the invoked service is declared in the stack and
 * carries the public-endpoint label, so a second, unreviewed public service cannot slip in.
 */
export const publicEndpointDeclared: StackRule = {
  kind: "stack",
  name: "public-endpoint-declared",
  description: "An endpoint open to allUsers is a service of this stack labelled as the reviewed public tracking API.",
  domain: "public-access",
  severity: "critical",
  enforcementLevel: "mandatory",
  articles: NO_PUBLIC,
  remediation: `Do not open services to allUsers. The clickstream collector is the only reviewed public endpoint: it carries the label ${PUBLIC_ENDPOINT_LABEL.key}=${PUBLIC_ENDPOINT_LABEL.value} and pseudonymises before anything is stored. Any other service must require authenticated callers (remove the allUsers invoker grant and keep invokerIamDisabled off).`,
  resourceTypes: [...Object.keys(PUBLIC_SERVICE_TYPES), ...Object.values(PUBLIC_SERVICE_TYPES)],
  validate(resources, ctx) {
    const labelled = (svc: ResourceView): boolean =>
      effectiveTags(svc)[PUBLIC_ENDPOINT_LABEL.key] === PUBLIC_ENDPOINT_LABEL.value;
    for (const m of resources.filter((r) => PUBLIC_SERVICE_TYPES[r.type] !== undefined)) {
      const members = [str(m.props, "member"), ...list(m.props, "members")].filter(
        (x): x is string => typeof x === "string",
      );
      if (!members.some((x) => PUBLIC_MEMBERS.includes(x))) continue;
      const serviceType = PUBLIC_SERVICE_TYPES[m.type];
      const services = resources.filter((r) => r.type === serviceType);
      const target = services.find(
        (svc) =>
          (
            m.propertyDependencies.name ??
            m.propertyDependencies.cloudFunction ??
            m.propertyDependencies.service ??
            []
          ).includes(svc.urn) ||
          ["name", "cloudFunction", "service"].some((k) => {
            const v = m.props[k];
            return typeof v === "string" && (v === svc.props.name || v === svc.props.id);
          }),
      );
      if (target === undefined) {
        ctx.report(`${label(m)} opens a service that is not declared in this stack to allUsers.`, m.urn);
      } else if (!labelled(target)) {
        ctx.report(
          `${label(m)} opens ${label(target)} to allUsers, but that service is not labelled ${PUBLIC_ENDPOINT_LABEL.key}=${PUBLIC_ENDPOINT_LABEL.value}.`,
          m.urn,
        );
      }
    }
    for (const svc of resources.filter((r) => r.type === "gcp:cloudrunv2/service:Service")) {
      if (bool(svc.props, "invokerIamDisabled") === true && !labelled(svc)) {
        ctx.report(
          `${label(svc)} disables invoker IAM (anyone may call it) without the ${PUBLIC_ENDPOINT_LABEL.key} label.`,
          svc.urn,
        );
      }
    }
  },
};

const LAMBDA_PERMISSION = "aws:lambda/permission:Permission";
const FUNCTION_URL = "aws:lambda/functionUrl:FunctionUrl";
const BUCKET_NOTIFICATION = "aws:s3/bucketNotification:BucketNotification";
/** A bucket notification's destinations: list property and the ARN field of each entry. */
const NOTIFICATION_DESTINATIONS = [
  ["lambdaFunctions", "lambdaFunctionArn"],
  ["queues", "queueArn"],
  ["topics", "topicArn"],
] as const;

/** The one account the resource's AWS provider may deploy to (`allowedAccountIds`, JSON-encoded by the engine). */
function providerAccount(r: ResourceView): string | undefined {
  const raw = r.provider ? get(r.provider.props, "allowedAccountIds") : undefined;
  let ids: unknown = raw;
  if (typeof raw === "string") {
    try {
      ids = JSON.parse(raw);
    } catch {
      return undefined;
    }
  }
  const accounts = asArray(ids).filter((a): a is string => typeof a === "string");
  return accounts.length === 1 ? accounts[0] : undefined;
}

export const invocationsScoped: ResourceRule = {
  kind: "resource",
  name: "invocations-scoped",
  description:
    "Functions run only for named resources of their own account: a Lambda permission names its caller's sourceArn (and sourceAccount for S3), never '*'; no function URL is unauthenticated, nor a URL permission granted for an unauthenticated URL; bucket notifications go to EventBridge or to destinations in the bucket's account.",
  domain: "public-access",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: NO_PUBLIC,
  remediation:
    "Give aws.lambda.Permission the sourceArn of the one rule, schedule or bucket that invokes it (and sourceAccount when the principal is s3.amazonaws.com: bucket ARNs carry no account); never principal '*'. Set a function URL's authorizationType to AWS_IAM (and a lambda:InvokeFunctionUrl permission's functionUrlAuthType to AWS_IAM), or invoke the function through EventBridge instead. Send bucket notifications to EventBridge (eventbridge: true) or to a function, queue or topic of the same account.",
  resourceTypes: [LAMBDA_PERMISSION, FUNCTION_URL, BUCKET_NOTIFICATION],
  validate(r, ctx) {
    if (r.type === LAMBDA_PERMISSION) {
      const principal = str(r.props, "principal") ?? "";
      if (principal === "*") {
        ctx.report(`${label(r)} lets any principal invoke the function.`, r.urn);
        return;
      }
      // A function URL permission for auth type NONE is what makes a URL public (Lambda developer guide,
      // "Control access to Lambda function URLs"); only AWS_IAM URLs are allowed here.
      const action = str(r.props, "action");
      if (action === "lambda:InvokeFunctionUrl" && str(r.props, "functionUrlAuthType") !== "AWS_IAM")
        ctx.report(
          `${label(r)} grants lambda:InvokeFunctionUrl for auth type '${str(r.props, "functionUrlAuthType") ?? "unset"}': set functionUrlAuthType to AWS_IAM.`,
          r.urn,
        );
      // A service principal without sourceArn admits every resource of that service, in every account
      // (Lambda developer guide, "Granting function access to AWS services": the confused deputy).
      if (principal.endsWith(".amazonaws.com")) {
        if (reference(r.props, "sourceArn", ctx, r) === undefined)
          ctx.report(
            `${label(r)} lets ${principal} invoke the function for any resource in any account: set sourceArn.`,
            r.urn,
          );
        if (principal === "s3.amazonaws.com" && str(r.props, "sourceAccount") === undefined)
          ctx.report(`${label(r)} names a bucket, whose ARN carries no account: set sourceAccount.`, r.urn);
      }
      return;
    }
    if (r.type === FUNCTION_URL) {
      const auth = str(r.props, "authorizationType");
      if (auth !== "AWS_IAM")
        ctx.report(
          `${label(r)} has authorizationType '${auth ?? "unset"}': anyone on the internet can call it.`,
          r.urn,
        );
      return;
    }
    const account = providerAccount(r);
    for (const [prop, field] of NOTIFICATION_DESTINATIONS) {
      list(r.props, prop).forEach((_, i) => {
        const arn = peekStr(r.props, `${prop}[${i}].${field}`);
        if (typeof arn !== "string") return; // unknown: a resource of this update, placed by the residency rule
        const owner = arn.split(":")[4];
        if (typeof account === "string" && owner !== account)
          ctx.report(
            `${label(r)} sends object events (keys can name people) to '${arn}', outside the bucket's account ${account}.`,
            r.urn,
          );
      });
    }
  },
};

const MSK_CLUSTER = "aws:msk/cluster:Cluster";
const MSK_SERVERLESS = "aws:msk/serverlessCluster:ServerlessCluster";
const MSK_CLUSTER_POLICY = "aws:msk/clusterPolicy:ClusterPolicy";
const FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream";

export const kafkaPrivateIam: ResourceRule = {
  kind: "resource",
  name: "kafka-private-authenticated",
  description:
    "Kafka is private and authenticated: MSK brokers admit no unauthenticated clients, MSK Serverless uses IAM, cluster policies admit only named principals or this account's services, and Firehose reads MSK over private connectivity.",
  domain: "public-access",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: NO_PUBLIC,
  remediation:
    "Keep clientAuthentication.unauthenticated false with IAM (sasl.iam) or another authentication on; set clientAuthentication.sasl.iam.enabled on MSK Serverless; grant a cluster policy to a service principal with an aws:SourceAccount condition or to named roles, never '*'; set a Firehose MSK source's authenticationConfiguration.connectivity to 'PRIVATE' (multi-VPC private connectivity).",
  resourceTypes: [MSK_CLUSTER, MSK_SERVERLESS, MSK_CLUSTER_POLICY, FIREHOSE],
  validate(r, ctx) {
    if (r.type === MSK_CLUSTER) {
      // Public broker access is no-public-network-exposure's; this rule checks who may connect.
      if (bool(r.props, "clientAuthentication.unauthenticated") === true)
        ctx.report(
          `${label(r)} admits unauthenticated clients: set clientAuthentication.unauthenticated to false.`,
          r.urn,
        );
      const authenticated =
        bool(r.props, "clientAuthentication.sasl.iam") === true ||
        bool(r.props, "clientAuthentication.sasl.scram") === true ||
        get(r.props, "clientAuthentication.tls") !== undefined;
      if (!authenticated)
        ctx.report(`${label(r)} has no client authentication: turn on clientAuthentication.sasl.iam.`, r.urn);
      return;
    }
    if (r.type === MSK_SERVERLESS) {
      if (bool(r.props, "clientAuthentication.sasl.iam.enabled") !== true)
        ctx.report(
          `${label(r)} does not use IAM authentication: set clientAuthentication.sasl.iam.enabled to true.`,
          r.urn,
        );
      return;
    }
    if (r.type === FIREHOSE) {
      if (get(r.props, "mskSourceConfiguration") === undefined) return;
      const connectivity = str(r.props, "mskSourceConfiguration.authenticationConfiguration.connectivity");
      if (connectivity !== "PRIVATE")
        ctx.report(
          `${label(r)} reads MSK over '${connectivity ?? "unset"}' connectivity (public bootstrap brokers); use 'PRIVATE'.`,
          r.urn,
        );
      return;
    }
    const doc = policyDocument(get(r.props, "policy"));
    if (!doc) {
      ctx.report(`${label(r)} has no readable policy document.`, r.urn);
      return;
    }
    doc.Statement.forEach((st, i) => {
      if (st.Effect !== "Allow") return;
      const p = st.Principal;
      const aws = isRecord(p) ? asArray(p.AWS) : [];
      const services = isRecord(p) ? asArray(p.Service) : [];
      const cond = isRecord(st.Condition) ? JSON.stringify(st.Condition) : "";
      if (p === "*" || aws.includes("*"))
        ctx.report(`${label(r)} statement ${i} allows any principal on the cluster.`, r.urn);
      else if (services.length > 0 && !/aws:Source(Account|Arn)/.test(cond))
        ctx.report(
          `${label(r)} statement ${i} admits ${services.join(", ")} for any account: add an aws:SourceAccount condition.`,
          r.urn,
        );
    });
  },
};

export const publicAccessRules = [
  s3PublicAccessBlock,
  noPublicPrincipals,
  publicEndpointDeclared,
  noPublicNetwork,
  invocationsScoped,
  kafkaPrivateIam,
] as const;
