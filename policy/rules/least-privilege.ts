/**
 * Least privilege: GDPR Art. 25(2) (only the data necessary is accessible) and Art. 32(4); LGPD
 * Art. 6 III (necessity), Art. 46-47. Primitive roles, wildcard actions, default service accounts
 * (which hold roles/editor) and long-lived keys all grant far more than a job needs.
 */
import { A } from "./articles";
import {
  asArray,
  get,
  isRecord,
  label,
  list,
  policyDocument,
  str,
  type ResourceRule,
} from "./common";

const LEAST_PRIVILEGE = [A.gdpr25_2, A.gdpr32_4, A.gdpr32_1_b, A.lgpd6_iii, A.lgpd46, A.lgpd47];
const PRIMITIVE_ROLES = ["roles/owner", "roles/editor", "roles/viewer"];

export const noPrimitiveRoles: ResourceRule = {
  kind: "resource",
  name: "no-primitive-roles",
  description: "GCP grants use predefined or custom roles, never the primitive owner, editor or viewer roles.",
  domain: "least-privilege",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: LEAST_PRIVILEGE,
  remediation:
    "Replace roles/owner, roles/editor and roles/viewer with the predefined roles the principal needs (for example roles/bigquery.dataViewer on one dataset), granted on the narrowest resource rather than the project.",
  resourceTypes: ["gcp:*IamMember*", "gcp:*IAMMember*", "gcp:*IamBinding*", "gcp:*IAMBinding*", "gcp:*IamPolicy*", "gcp:*IAMPolicy*"],
  validate(r, ctx) {
    if (/I[Aa][Mm]Policy$/.test(r.type)) {
      const data = str(r.props, "policyData");
      if (data === undefined) return;
      let bindings: unknown[] = [];
      try {
        const parsed: unknown = JSON.parse(data);
        bindings = isRecord(parsed) ? asArray(parsed.bindings) : [];
      } catch {
        ctx.report(`${label(r)} has a policyData that is not JSON.`, r.urn);
        return;
      }
      for (const b of bindings) {
        const role = isRecord(b) ? b.role : undefined;
        if (typeof role === "string" && PRIMITIVE_ROLES.includes(role)) ctx.report(`${label(r)} binds the primitive role '${role}'.`, r.urn);
      }
      return;
    }
    const role = str(r.props, "role");
    if (role !== undefined && PRIMITIVE_ROLES.includes(role)) ctx.report(`${label(r)} grants the primitive role '${role}'.`, r.urn);
  },
};

/** Statement's actions if it allows a wildcard (`*`, `svc:*`) or uses NotAction. */
function wildcardActions(s: Record<string, unknown>): string[] {
  if (s.Effect !== "Allow") return [];
  if (s.NotAction !== undefined) return ["NotAction"];
  return asArray(s.Action).filter((a): a is string => typeof a === "string" && (a === "*" || /^[a-z0-9-]+:\*$/i.test(a)));
}

/** The account-root principal a KMS key policy delegates to IAM with (the AWS default key policy). */
const isAccountRoot = (s: Record<string, unknown>): boolean => {
  const p = s.Principal;
  return isRecord(p) && asArray(p.AWS).every((x) => typeof x === "string" && /^arn:aws[a-z-]*:iam::\d{12}:root$/.test(x));
};

const POLICY_PROPS: Readonly<Record<string, string>> = {
  "aws:iam/policy:Policy": "policy",
  "aws:iam/rolePolicy:RolePolicy": "policy",
  "aws:iam/userPolicy:UserPolicy": "policy",
  "aws:iam/groupPolicy:GroupPolicy": "policy",
  "aws:s3/bucketPolicy:BucketPolicy": "policy",
  "aws:kms/key:Key": "policy",
  "aws:sns/topic:Topic": "policy",
  "aws:secretsmanager/secret:Secret": "policy",
  "aws:sns/topicPolicy:TopicPolicy": "policy",
  "aws:secretsmanager/secretPolicy:SecretPolicy": "policy",
};

/** AWS managed policies that grant whole services or the account. */
const BROAD_MANAGED = /^arn:aws[a-z-]*:iam::aws:policy\/(AdministratorAccess|PowerUserAccess|IAMFullAccess|.*FullAccess)$/;

export const noWildcardActions: ResourceRule = {
  kind: "resource",
  name: "no-wildcard-actions",
  description: "AWS policies allow named actions only: no '*', no 'service:*', no NotAction, no *FullAccess managed policies.",
  domain: "least-privilege",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: LEAST_PRIVILEGE,
  remediation:
    "List the actions the role needs (for example s3:GetObject and s3:PutObject on the zone's prefix) instead of '*' or 's3:*', and attach customer-managed policies instead of AWS *FullAccess policies. KMS key policies may keep the AWS default statement that delegates 'kms:*' to the account root, because IAM policies then decide.",
  resourceTypes: [
    ...Object.keys(POLICY_PROPS),
    "aws:iam/role:Role",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
    "aws:iam/rolePoliciesExclusive:RolePoliciesExclusive",
  ],
  validate(r, ctx) {
    if (r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment" || r.type === "aws:iam/policyAttachment:PolicyAttachment") {
      const arn = str(r.props, "policyArn") ?? "";
      if (BROAD_MANAGED.test(arn)) ctx.report(`${label(r)} attaches the broad managed policy '${arn}'.`, r.urn);
      return;
    }
    const docs: [string, unknown][] = [];
    if (r.type === "aws:iam/role:Role") {
      list(r.props, "inlinePolicies").forEach((_, i) => docs.push([`inlinePolicies[${i}].policy`, get(r.props, `inlinePolicies[${i}].policy`)]));
      for (const arn of list(r.props, "managedPolicyArns")) {
        if (typeof arn === "string" && BROAD_MANAGED.test(arn)) ctx.report(`${label(r)} attaches the broad managed policy '${arn}'.`, r.urn);
      }
    } else {
      const prop = POLICY_PROPS[r.type];
      if (prop) docs.push([prop, get(r.props, prop)]);
    }
    for (const [path, raw] of docs) {
      if (raw === undefined) continue;
      const doc = policyDocument(raw);
      if (!doc) {
        ctx.report(`${label(r)} has a ${path} that is not a readable policy document.`, r.urn);
        continue;
      }
      doc.Statement.forEach((s, i) => {
        if (r.type === "aws:kms/key:Key" && isAccountRoot(s)) return;
        const wild = wildcardActions(s);
        if (wild.length > 0) ctx.report(`${label(r)} ${path} statement ${i} allows ${wild.map((w) => `'${w}'`).join(", ")}.`, r.urn);
      });
    }
  },
};

const IAM_ALLOWED = "IAM_ALLOWED_PRINCIPALS";

export const lakeFormationDefaults: ResourceRule = {
  kind: "resource",
  name: "lake-formation-no-iam-allowed-principals",
  description: "Lake Formation governs the catalog: no IAM_ALLOWED_PRINCIPALS default grants on new databases or tables.",
  domain: "least-privilege",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: LEAST_PRIVILEGE,
  remediation:
    "Leave createDatabaseDefaultPermissions and createTableDefaultPermissions empty in aws.lakeformation.DataLakeSettings, and do not grant IAM_ALLOWED_PRINCIPALS in a catalog database's createTableDefaultPermissions. With that default grant, any IAM principal with Glue permissions reads every table and LF-tag column controls are bypassed.",
  resourceTypes: ["aws:lakeformation/dataLakeSettings:DataLakeSettings", "aws:glue/catalogDatabase:CatalogDatabase", "aws:lakeformation/permissions:Permissions"],
  validate(r, ctx) {
    if (r.type === "aws:lakeformation/permissions:Permissions") {
      if (str(r.props, "principal") === IAM_ALLOWED) ctx.report(`${label(r)} grants Lake Formation permissions to ${IAM_ALLOWED}.`, r.urn);
      return;
    }
    const props = r.type === "aws:glue/catalogDatabase:CatalogDatabase" ? ["createTableDefaultPermissions"] : ["createDatabaseDefaultPermissions", "createTableDefaultPermissions"];
    for (const p of props) {
      list(r.props, p).forEach((_, i) => {
        const who = str(r.props, `${p}[${i}].principal`) ?? str(r.props, `${p}[${i}].principal.dataLakePrincipalIdentifier`);
        if (who === IAM_ALLOWED) ctx.report(`${label(r)} grants ${p} to ${IAM_ALLOWED}.`, r.urn);
      });
    }
  },
};

export const dedicatedServiceAccounts: ResourceRule = {
  kind: "resource",
  name: "dedicated-service-accounts",
  description: "Functions, Dataflow jobs and notebooks run as a dedicated service account, never the default compute account (which holds roles/editor).",
  domain: "least-privilege",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: LEAST_PRIVILEGE,
  remediation:
    "Create a gcp.serviceaccount.Account per workload, grant it only the roles it needs, and set it as serviceConfig.serviceAccountEmail (Cloud Functions), serviceAccountEmail (Dataflow), gceSetup.serviceAccounts[0].email (Workbench) or template.serviceAccount (Cloud Run).",
  resourceTypes: [
    "gcp:cloudfunctionsv2/function:Function",
    "gcp:dataflow/flexTemplateJob:FlexTemplateJob",
    "gcp:dataflow/job:Job",
    "gcp:workbench/instance:Instance",
    "gcp:cloudrunv2/service:Service",
  ],
  validate(r, ctx) {
    const path: Readonly<Record<string, string>> = {
      "gcp:cloudfunctionsv2/function:Function": "serviceConfig.serviceAccountEmail",
      "gcp:dataflow/flexTemplateJob:FlexTemplateJob": "serviceAccountEmail",
      "gcp:dataflow/job:Job": "serviceAccountEmail",
      "gcp:workbench/instance:Instance": "gceSetup.serviceAccounts[0].email",
      "gcp:cloudrunv2/service:Service": "template.serviceAccount",
    };
    const p = path[r.type];
    if (!p) return;
    const email = str(r.props, p);
    if (email === undefined) {
      ctx.report(`${label(r)} runs as the default compute service account: set ${p}.`, r.urn);
    } else if (/-compute@developer\.gserviceaccount\.com$/.test(email)) {
      ctx.report(`${label(r)} runs as the default compute service account '${email}'.`, r.urn);
    }
  },
};

export const noLongLivedKeys: ResourceRule = {
  kind: "resource",
  name: "no-long-lived-keys",
  description: "No service account keys, IAM access keys or console passwords are created: workloads and CI use short-lived credentials.",
  domain: "least-privilege",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: [A.gdpr32_1_b_keys, A.lgpd46_keys],
  remediation:
    "Remove the key. Workloads use their attached service account or IAM role, and CI uses OIDC workload identity federation (GitHub Actions to AWS IAM and GCP Workload Identity), so no secret has to be stored or rotated.",
  resourceTypes: ["gcp:serviceaccount/key:Key", "aws:iam/accessKey:AccessKey", "aws:iam/userLoginProfile:UserLoginProfile"],
  validate(r, ctx) {
    ctx.report(`${label(r)} creates a long-lived credential.`, r.urn);
  },
};

export const leastPrivilegeRules = [noPrimitiveRoles, noWildcardActions, lakeFormationDefaults, dedicatedServiceAccounts, noLongLivedKeys] as const;
