/**
 * Runtime guardrails for a cell's GCP project: the `gcp.resourceLocations` organisation policy at project
 * level, so the cloud itself refuses to create storage outside the cell's locations whatever the code says,
 * and Data Access audit logs for BigQuery and Cloud Storage (who read which personal data).
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";

export interface ResidencyGuardrailsArgs {
  readonly project: string;
  /**
   * Allowed values for `gcp.resourceLocations`: value groups such as `in:southamerica-east1-locations`
   * (Resource Manager docs, "Restricting resource locations": each region has an `in:<region>-locations` group).
   */
  readonly allowedLocations: readonly string[];
  /** Services whose Data Access logs are switched on. */
  readonly auditedServices: readonly string[];
}

export class ResidencyGuardrails extends pulumi.ComponentResource {
  public readonly locationPolicy: gcp.orgpolicy.Policy;

  constructor(name: string, args: ResidencyGuardrailsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:gcp:ResidencyGuardrails", name, args, opts);
    this.locationPolicy = new gcp.orgpolicy.Policy(
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
