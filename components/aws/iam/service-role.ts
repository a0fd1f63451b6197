/**
 * A role one AWS service assumes, with its inline policy and managed attachments, whose `arn` and `name`
 * resolve only once those policies exist (the shape of pulumi-eks `ServiceRole`, nodejs/eks/servicerole.ts):
 * a consumer (a Lake Formation grant, a Glue job, a DMS endpoint) that takes `role.arn` therefore depends
 * on the policies too, and can never be created with a role that cannot yet act.
 *
 * URNs: the roles this component now wraps were created directly under the component that uses it (a
 * `TransactionalIngestion`, a `DmsSource`...). A child's URN includes its parent's type chain, so wrapping
 * changes every child URN; without more, a real `pulumi up` on an existing stack would delete and recreate
 * those roles (and their policies). Each child therefore carries `aliases: [{ parent: <the old parent> }]`
 * (Pulumi docs, "Resource options: aliases"): the children keep their logical names, and the alias names
 * the parent they had, so Pulumi matches the existing resources and updates nothing. The old parent is
 * `opts.formerParent`, by default this component's own parent (where the code that now calls
 * `new ServiceRole` used to create the role); a component that itself wraps a ServiceRole passes its own
 * former parent on. A role that never existed outside the component gets an alias that matches nothing
 * (harmless).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { serviceOnlyTrustPolicy, serviceTrustPolicy } from "../service-trust";
import { policyDocument, type Statement } from "./statements";

export interface ServiceRoleArgs {
  /**
   * The service principal that assumes the role, e.g. `glue.amazonaws.com` or `dms.<region>.amazonaws.com`.
   * Ignored when `trustPolicy` is given.
   */
  readonly service: string;
  /**
   * A trust policy for a role no AWS service assumes: people's principals (a persona role) or a web identity
   * (`googleIdentityTrust`). @default the service's trust policy (`service`, `sourceCondition`)
   */
  readonly trustPolicy?: pulumi.Input<string>;
  /** Longest session, seconds (3600-43200). @default 3600 (IAM's default) */
  readonly maxSessionDuration?: number;
  /** Tags beyond the provider's defaults (e.g. `persona`). @default none */
  readonly tags?: Readonly<Record<string, string>>;
  /** The account the role lives in; the trust policy admits the service only on its behalf. */
  readonly accountId: string;
  /** What the role is for (shown in the IAM console). */
  readonly description: string;
  /**
   * Physical role name. Only where a service requires a fixed name (DMS's `dms-vpc-role`) or another
   * account refers to it by name. @default a unique name Pulumi generates from the logical name
   */
  readonly roleName?: string;
  /**
   * Inline policy statements (see ./statements.ts). The inline policy has the role's logical name.
   * @default [] (no inline policy is created)
   */
  readonly statements?: readonly pulumi.Input<Statement>[];
  /**
   * AWS-managed policies to attach. The first attachment has the role's logical name, later ones
   * `<name>-<index>`. @default []
   */
  readonly managedPolicyArns?: readonly string[];
  /**
   * The trust policy's confused-deputy guard: `"source-account"` admits the service only for calls made
   * on behalf of `accountId` (`aws:SourceAccount`, via `serviceTrustPolicy`); `"none"` is for the few
   * account-wide roles a service assumes without passing a source (each use must say why).
   * @default "source-account"
   */
  readonly sourceCondition?: "source-account" | "none";
}

/** Resource options of a component whose children used to be created directly under another resource. */
export interface MovedChildrenOptions extends pulumi.ComponentResourceOptions {
  /**
   * The resource the children were created under before this component existed; each child gets
   * `aliases: [{ parent: formerParent }]` so its URN history is kept. @default `parent`
   */
  readonly formerParent?: pulumi.Resource;
}

/** The options of a moved child: parented to `self`, aliased to the former parent (see the module comment). */
export function movedChildOptions(self: pulumi.Resource, opts?: MovedChildrenOptions): pulumi.CustomResourceOptions {
  const former = opts?.formerParent ?? opts?.parent;
  // The former parent by URN: the engine receives the same alias spec as for `{ parent: former }`
  // (@pulumi/pulumi runtime/resource.js `getParentURN`), but the SDK awaits `output(alias)` for each
  // alias, and an alias holding the Resource itself makes it walk the whole resource graph reachable
  // from it for unknowns (`containsUnknowns`): a third of a plan's evaluation time.
  return { parent: self, ...(former ? { aliases: [{ parent: former.urn }] } : {}) };
}

/** Options without `formerParent`, for `super()`. */
export function componentOptions(opts?: MovedChildrenOptions): pulumi.ComponentResourceOptions | undefined {
  if (!opts) return opts;
  const rest: pulumi.ComponentResourceOptions & { formerParent?: pulumi.Resource } = { ...opts };
  delete rest.formerParent;
  return rest;
}

export class ServiceRole extends pulumi.ComponentResource {
  /** The bare role; prefer `arn`/`name`, which wait for the policies. */
  public readonly role: aws.iam.Role;
  /** The inline policy, when statements were given. */
  public readonly policy: aws.iam.RolePolicy | undefined;
  public readonly attachments: readonly aws.iam.RolePolicyAttachment[];
  /** The role's ARN, resolved once the inline policy and the attachments exist. */
  public readonly arn: pulumi.Output<string>;
  /** The role's name, resolved once the inline policy and the attachments exist. */
  public readonly name: pulumi.Output<string>;

  constructor(name: string, args: ServiceRoleArgs, opts?: MovedChildrenOptions) {
    super("lakehouse:aws:ServiceRole", name, args, componentOptions(opts));
    const child = movedChildOptions(this, opts);
    this.role = new aws.iam.Role(
      name,
      {
        ...(args.roleName !== undefined ? { name: args.roleName } : {}),
        description: args.description,
        assumeRolePolicy:
          args.trustPolicy ??
          ((args.sourceCondition ?? "source-account") === "source-account"
            ? serviceTrustPolicy(args.service, args.accountId)
            : serviceOnlyTrustPolicy(args.service)),
        ...(args.maxSessionDuration !== undefined ? { maxSessionDuration: args.maxSessionDuration } : {}),
        ...(args.tags !== undefined ? { tags: { ...args.tags } } : {}),
      },
      child,
    );
    const statements = args.statements ?? [];
    this.policy =
      statements.length > 0
        ? new aws.iam.RolePolicy(name, { role: this.role.id, policy: policyDocument(statements) }, child)
        : undefined;
    this.attachments = (args.managedPolicyArns ?? []).map(
      (policyArn, i) =>
        new aws.iam.RolePolicyAttachment(i === 0 ? name : `${name}-${i}`, { role: this.role.name, policyArn }, child),
    );
    const ready = [...(this.policy ? [this.policy.id] : []), ...this.attachments.map((a) => a.id)];
    this.arn = pulumi.all([this.role.arn, ...ready]).apply(([arn]) => arn);
    this.name = pulumi.all([this.role.name, ...ready]).apply(([n]) => n);
    this.registerOutputs({ arn: this.arn, name: this.name });
  }
}
