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
  durationDays,
  num,
  peekStr,
  peekStrings,
  type ResourceRule,
  type ResourceView,
  type StackRule,
  eachKnown,
  referenced,
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
  resourceTypes: [
    "gcp:*IamMember*",
    "gcp:*IAMMember*",
    "gcp:*IamBinding*",
    "gcp:*IAMBinding*",
    "gcp:*IamPolicy*",
    "gcp:*IAMPolicy*",
  ],
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
        if (typeof role === "string" && PRIMITIVE_ROLES.includes(role))
          ctx.report(`${label(r)} binds the primitive role '${role}'.`, r.urn);
      }
      return;
    }
    const role = str(r.props, "role");
    if (role !== undefined && PRIMITIVE_ROLES.includes(role))
      ctx.report(`${label(r)} grants the primitive role '${role}'.`, r.urn);
  },
};

/** Statement's actions if it allows a wildcard (`*`, `svc:*`) or uses NotAction. */
function wildcardActions(s: Record<string, unknown>): string[] {
  if (s.Effect !== "Allow") return [];
  if (s.NotAction !== undefined) return ["NotAction"];
  return asArray(s.Action).filter(
    (a): a is string => typeof a === "string" && (a === "*" || /^[a-z0-9-]+:\*$/i.test(a)),
  );
}

/** The account-root principal a KMS key policy delegates to IAM with (the AWS default key policy). */
const isAccountRoot = (s: Record<string, unknown>): boolean => {
  const p = s.Principal;
  return (
    isRecord(p) && asArray(p.AWS).every((x) => typeof x === "string" && /^arn:aws[a-z-]*:iam::\d{12}:root$/.test(x))
  );
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
const BROAD_MANAGED =
  /^arn:aws[a-z-]*:iam::aws:policy\/(AdministratorAccess|PowerUserAccess|IAMFullAccess|.*FullAccess)$/;

export const noWildcardActions: ResourceRule = {
  kind: "resource",
  name: "no-wildcard-actions",
  description:
    "AWS policies allow named actions only: no '*', no 'service:*', no NotAction, no *FullAccess managed policies.",
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
    if (
      r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment" ||
      r.type === "aws:iam/policyAttachment:PolicyAttachment"
    ) {
      const arn = str(r.props, "policyArn") ?? "";
      if (BROAD_MANAGED.test(arn)) ctx.report(`${label(r)} attaches the broad managed policy '${arn}'.`, r.urn);
      return;
    }
    const docs: [string, unknown][] = [];
    if (r.type === "aws:iam/role:Role") {
      list(r.props, "inlinePolicies").forEach((_, i) =>
        docs.push([`inlinePolicies[${i}].policy`, get(r.props, `inlinePolicies[${i}].policy`)]),
      );
      for (const arn of list(r.props, "managedPolicyArns")) {
        if (typeof arn === "string" && BROAD_MANAGED.test(arn))
          ctx.report(`${label(r)} attaches the broad managed policy '${arn}'.`, r.urn);
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
        if (wild.length > 0)
          ctx.report(`${label(r)} ${path} statement ${i} allows ${wild.map((w) => `'${w}'`).join(", ")}.`, r.urn);
      });
    }
  },
};

const IAM_ALLOWED = "IAM_ALLOWED_PRINCIPALS";

export const lakeFormationDefaults: ResourceRule = {
  kind: "resource",
  name: "lake-formation-no-iam-allowed-principals",
  description:
    "Lake Formation governs the catalog: no IAM_ALLOWED_PRINCIPALS default grants on new databases or tables.",
  domain: "least-privilege",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: LEAST_PRIVILEGE,
  remediation:
    "Leave createDatabaseDefaultPermissions and createTableDefaultPermissions empty in aws.lakeformation.DataLakeSettings, and do not grant IAM_ALLOWED_PRINCIPALS in a catalog database's createTableDefaultPermissions. With that default grant, any IAM principal with Glue permissions reads every table and LF-tag column controls are bypassed.",
  resourceTypes: [
    "aws:lakeformation/dataLakeSettings:DataLakeSettings",
    "aws:glue/catalogDatabase:CatalogDatabase",
    "aws:lakeformation/permissions:Permissions",
  ],
  validate(r, ctx) {
    if (r.type === "aws:lakeformation/permissions:Permissions") {
      if (str(r.props, "principal") === IAM_ALLOWED)
        ctx.report(`${label(r)} grants Lake Formation permissions to ${IAM_ALLOWED}.`, r.urn);
      return;
    }
    const props =
      r.type === "aws:glue/catalogDatabase:CatalogDatabase"
        ? ["createTableDefaultPermissions"]
        : ["createDatabaseDefaultPermissions", "createTableDefaultPermissions"];
    for (const p of props) {
      list(r.props, p).forEach((_, i) => {
        const who =
          str(r.props, `${p}[${i}].principal`) ?? str(r.props, `${p}[${i}].principal.dataLakePrincipalIdentifier`);
        if (who === IAM_ALLOWED) ctx.report(`${label(r)} grants ${p} to ${IAM_ALLOWED}.`, r.urn);
      });
    }
  },
};

export const dedicatedServiceAccounts: ResourceRule = {
  kind: "resource",
  name: "dedicated-service-accounts",
  description:
    "Functions, Dataflow jobs and notebooks run as a dedicated service account, never the default compute account (which holds roles/editor).",
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
  description:
    "No service account keys, IAM access keys or console passwords are created: workloads and CI use short-lived credentials.",
  domain: "least-privilege",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: [A.gdpr32_1_b_keys, A.lgpd46_keys],
  remediation:
    "Remove the key. Workloads use their attached service account or IAM role, and CI uses OIDC workload identity federation (GitHub Actions to AWS IAM and GCP Workload Identity), so no secret has to be stored or rotated.",
  resourceTypes: [
    "gcp:serviceaccount/key:Key",
    "aws:iam/accessKey:AccessKey",
    "aws:iam/userLoginProfile:UserLoginProfile",
  ],
  validate(r, ctx) {
    ctx.report(`${label(r)} creates a long-lived credential.`, r.urn);
  },
};

/**
 * Permissions that let the holder grant itself or others more access, or act as another identity:
 * a custom role carrying one of them is an escalation path, whatever else it narrows.
 */
const ESCALATING_PERMISSIONS = [
  /\.setIamPolicy$/,
  /^iam\.roles\.(create|update|undelete)$/,
  /^iam\.serviceAccounts\.(actAs|getAccessToken|getOpenIdToken|implicitDelegation|signBlob|signJwt|setIamPolicy)$/,
  /^iam\.serviceAccountKeys\.create$/,
  /^resourcemanager\.(projects|folders|organizations)\.setIamPolicy$/,
  /^orgpolicy\.policy\.set$/,
];

export const customRolesNarrow: ResourceRule = {
  kind: "resource",
  name: "custom-roles-narrow",
  description:
    "GCP custom roles list exact permissions: no wildcards and no permission that changes IAM policies or impersonates identities.",
  domain: "least-privilege",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: LEAST_PRIVILEGE,
  remediation:
    "List in the custom role only the exact permissions the workload calls (for example aiplatform.endpoints.predict). Remove wildcards and permissions such as *.setIamPolicy, iam.serviceAccounts.actAs or iam.serviceAccountKeys.create: they let the holder widen its own access or act as another service account, which defeats the narrow role. Grant such powers, if ever needed, through a time-bound Privileged Access Manager entitlement.",
  resourceTypes: ["gcp:projects/iAMCustomRole:IAMCustomRole", "gcp:organizations/iAMCustomRole:IAMCustomRole"],
  validate(r, ctx) {
    const permissions = list(r.props, "permissions").filter((p): p is string => typeof p === "string");
    if (permissions.length === 0) ctx.report(`${label(r)} lists no permissions.`, r.urn);
    for (const p of permissions) {
      if (p.includes("*")) ctx.report(`${label(r)} has the wildcard permission '${p}'.`, r.urn);
      else if (ESCALATING_PERMISSIONS.some((re) => re.test(p)))
        ctx.report(
          `${label(r)} has '${p}', which lets the holder change IAM policies or act as another identity.`,
          r.urn,
        );
    }
  },
};

const SERVICE_IDENTITY = "gcp:projects/serviceIdentity:ServiceIdentity";
const PROJECT_GRANTS = ["gcp:projects/iAMMember:IAMMember", "gcp:projects/iAMBinding:IAMBinding"];
const KEY_GRANTS = ["gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "gcp:kms/cryptoKeyIAMBinding:CryptoKeyIAMBinding"];

const projectOf = (r: ResourceView): string | undefined =>
  str(r.props, "project") ?? (r.provider ? str(r.provider.props, "project") : undefined);

export const serviceAgentsScoped: StackRule = {
  kind: "stack",
  name: "service-agents-scoped",
  description:
    "Service agents created by the program get grants on the resources they serve (keys, topics), never project-wide roles or keys of another project.",
  domain: "least-privilege",
  severity: "medium",
  enforcementLevel: "mandatory",
  articles: LEAST_PRIVILEGE,
  remediation:
    "Grant a service agent (gcp.projects.ServiceIdentity) its role on the one resource it needs, for example roles/cloudkms.cryptoKeyEncrypterDecrypter on the cell's key for that service, instead of a project-level IAMMember. Use only keys of the agent's own project: a key of another cell's project puts the cell's data under another jurisdiction's key.",
  resourceTypes: [SERVICE_IDENTITY],
  validate(resources, ctx) {
    for (const agent of resources.filter((r) => r.type === SERVICE_IDENTITY)) {
      const ids = [peekStr(agent.props, "member"), peekStr(agent.props, "email")].filter(
        (v): v is string => typeof v === "string",
      );
      const grantsTo = (g: ResourceView, prop: string): boolean => {
        if ((g.propertyDependencies[prop] ?? []).includes(agent.urn)) return true;
        const members = [peekStr(g.props, "member"), ...peekStrings(g.props, "members").known].filter(
          (m): m is string => typeof m === "string",
        );
        return members.some((m) => ids.some((id) => m === id || m === `serviceAccount:${id}`));
      };
      const project = projectOf(agent);
      for (const g of resources.filter((r) => PROJECT_GRANTS.includes(r.type))) {
        if (grantsTo(g, g.type.endsWith("Binding") ? "members" : "member")) {
          ctx.report(
            `${label(g)} grants the service agent ${label(agent)} '${str(g.props, "role") ?? "?"}' on the whole project '${str(g.props, "project") ?? project ?? "?"}'.`,
            g.urn,
          );
        }
      }
      for (const g of resources.filter((r) => KEY_GRANTS.includes(r.type))) {
        if (!grantsTo(g, g.type.endsWith("Binding") ? "members" : "member")) continue;
        const keyProject = /^projects\/([^/]+)\//.exec(peekStr(g.props, "cryptoKeyId") ?? "")?.[1];
        if (keyProject !== undefined && project !== undefined && keyProject !== project) {
          ctx.report(
            `${label(g)} grants the service agent ${label(agent)} of project '${project}' a key of project '${keyProject}'.`,
            g.urn,
          );
        }
      }
    }
  },
};

/** Longest elevation a break-glass request may ask for: one working session (the project's own bound). */
const MAX_ELEVATION_HOURS = 8;

export const privilegedAccessApproved: ResourceRule = {
  kind: "resource",
  name: "privileged-access-approved",
  description:
    "Privileged Access Manager entitlements require a justification and another person's approval, are time-bound and grant no primitive role.",
  domain: "least-privilege",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: [...LEAST_PRIVILEGE, A.gdpr5_2, A.lgpd6_x],
  remediation: `Give every gcp.privilegedaccessmanager.Entitlement an approvalWorkflow with at least one manual approval step whose approvers are not among the eligible users, a requesterJustificationConfig, a maxRequestDuration of at most ${MAX_ELEVATION_HOURS} hours, and role bindings to predefined or custom roles (never roles/owner, roles/editor or roles/viewer). The approval and the justification are the record of why personal data was accessed.`,
  resourceTypes: ["gcp:privilegedaccessmanager/entitlement:entitlement"],
  validate(r, ctx) {
    const steps = list(r.props, "approvalWorkflow.manualApprovals.steps");
    const approvers = new Set<string>();
    steps.forEach((_, i) => {
      const base = `approvalWorkflow.manualApprovals.steps[${i}]`;
      for (const p of list(r.props, `${base}.approvers.principals`)) if (typeof p === "string") approvers.add(p);
      if ((num(r.props, `${base}.approvalsNeeded`) ?? 1) < 1)
        ctx.report(`${label(r)} approval step ${i} needs no approval.`, r.urn);
    });
    if (steps.length === 0 || approvers.size === 0)
      ctx.report(
        `${label(r)} grants access without approval: add approvalWorkflow.manualApprovals with approvers.`,
        r.urn,
      );
    const eligible = list(r.props, "eligibleUsers").flatMap((_, i) => list(r.props, `eligibleUsers[${i}].principals`));
    for (const p of eligible) {
      if (typeof p === "string" && approvers.has(p))
        ctx.report(`${label(r)} lets '${p}' approve its own requests.`, r.urn);
    }
    if (get(r.props, "requesterJustificationConfig") === undefined) {
      ctx.report(`${label(r)} does not ask requesters for a justification: set requesterJustificationConfig.`, r.urn);
    }
    const hours = (durationDays(str(r.props, "maxRequestDuration")) ?? Number.POSITIVE_INFINITY) * 24;
    if (!(hours <= MAX_ELEVATION_HOURS)) {
      ctx.report(
        `${label(r)} allows elevations of '${str(r.props, "maxRequestDuration") ?? "unbounded"}'; the maximum is ${MAX_ELEVATION_HOURS} hours.`,
        r.urn,
      );
    }
    list(r.props, "privilegedAccess.gcpIamAccess.roleBindings").forEach((_, i) => {
      const role = str(r.props, `privilegedAccess.gcpIamAccess.roleBindings[${i}].role`);
      if (role !== undefined && PRIMITIVE_ROLES.includes(role))
        ctx.report(`${label(r)} grants the primitive role '${role}'.`, r.urn);
    });
  },
};

const TAXONOMY = "gcp:datacatalog/taxonomy:Taxonomy";
const POLICY_TAG = "gcp:datacatalog/policyTag:PolicyTag";
const FGAC = "FINE_GRAINED_ACCESS_CONTROL";

export const columnAccessControl: StackRule = {
  kind: "stack",
  name: "column-access-control-enforced",
  description:
    "Policy tag taxonomies enforce fine-grained access control, and every policy tag belongs to such a taxonomy of this stack.",
  domain: "least-privilege",
  severity: "high",
  enforcementLevel: "mandatory",
  articles: LEAST_PRIVILEGE,
  remediation:
    "Set activatedPolicyTypes ['FINE_GRAINED_ACCESS_CONTROL'] on every gcp.datacatalog.Taxonomy, in the cell's region, and create policy tags only in taxonomies of this stack. Without the activated policy type, BigQuery ignores the policy tags on columns and every dataset reader sees the identifying columns.",
  resourceTypes: [TAXONOMY, POLICY_TAG],
  validate(resources, ctx) {
    const taxonomies = resources.filter((r) => r.type === TAXONOMY);
    const enforced = (t: ResourceView): boolean => list(t.props, "activatedPolicyTypes").includes(FGAC);
    for (const t of taxonomies) {
      if (!enforced(t)) ctx.report(`${label(t)} does not activate ${FGAC}: its policy tags restrict nothing.`, t.urn);
    }
    eachKnown(
      resources.filter((r) => r.type === POLICY_TAG),
      ctx,
      (tag) => {
        const t = referenced(taxonomies, tag, "taxonomy", ["id", "name"]);
        if (!t)
          ctx.report(
            `${label(tag)} belongs to taxonomy '${str(tag.props, "taxonomy") ?? "?"}', which is not declared in this stack, so its enforcement cannot be verified.`,
            tag.urn,
          );
        else if (!enforced(t))
          ctx.report(
            `${label(tag)} belongs to ${label(t)}, which does not enforce fine-grained access control.`,
            tag.urn,
          );
      },
    );
  },
};

export const leastPrivilegeRules = [
  noPrimitiveRoles,
  noWildcardActions,
  lakeFormationDefaults,
  dedicatedServiceAccounts,
  noLongLivedKeys,
  customRolesNarrow,
  serviceAgentsScoped,
  privilegedAccessApproved,
  columnAccessControl,
] as const;
