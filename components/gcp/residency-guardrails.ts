/**
 * Runtime guardrails for a cell's GCP project: the `gcp.resourceLocations` organisation policy at project
 * level, so the cloud itself refuses to create storage outside the cell's locations whatever the code says,
 * and Data Access audit logs for BigQuery and Cloud Storage (who read which personal data).
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";

export interface ResidencyGuardrailsArgs {
  /** The cell's GCP project: the org policy and audit config apply to it. */
  readonly project: string;
  /**
   * Allowed values for `gcp.resourceLocations`: value groups such as `in:southamerica-east1-locations`
   * (Resource Manager docs, "Restricting resource locations": each region has an `in:<region>-locations` group).
   */
  readonly allowedLocations: readonly string[];
  /** Services whose Data Access logs are switched on. */
  readonly auditedServices: readonly string[];
  /**
   * `enforce` sets the org policy; `skip` leaves it out for a deployer without roles/orgpolicy.policyAdmin
   * (grantable at organization level only: cloud.google.com/iam/docs/roles-permissions/orgpolicy). Then
   * residency rests on the policy pack alone, which checks every resource's location before it is created,
   * but nothing stops a location outside the cell created by hand or by another tool. @default "enforce"
   */
  readonly orgPolicy?: "enforce" | "skip";
}

export class ResidencyGuardrails extends pulumi.ComponentResource {
  /** Undefined when `orgPolicy` is `skip`. */
  public readonly locationPolicy: gcp.orgpolicy.Policy | undefined;

  constructor(name: string, args: ResidencyGuardrailsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:gcp:ResidencyGuardrails", name, args, opts);
    // Creating or updating a policy on the project needs orgpolicy.policies.create/update, which only
    // roles/orgpolicy.policyAdmin holds and which Google grants at organization level only.
    this.locationPolicy =
      (args.orgPolicy ?? "enforce") === "skip"
        ? undefined
        : new gcp.orgpolicy.Policy(
            `${name}-resource-locations`,
            {
              name: `projects/${args.project}/policies/gcp.resourceLocations`,
              parent: `projects/${args.project}`,
              spec: { rules: [{ values: { allowedValues: [...args.allowedLocations] } }] },
            },
            { parent: this },
          );
    for (const service of args.auditedServices) {
      new gcp.projects.IAMAuditConfig(
        `${name}-audit-${service.split(".")[0]}`,
        {
          project: args.project,
          service,
          auditLogConfigs: [{ logType: "ADMIN_READ" }, { logType: "DATA_READ" }, { logType: "DATA_WRITE" }],
        },
        { parent: this },
      );
    }
    this.registerOutputs({});
  }
}
