/**
 * The Google APIs a cell's project needs, enabled explicitly so a fresh project works on the first
 * `pulumi up`. APIs stay enabled on destroy: disabling one would break whatever else shares the project.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";

export interface ProjectServicesArgs {
  readonly project: string;
  /** API names such as `bigquery.googleapis.com`. */
  readonly services: readonly string[];
}

export class ProjectServices extends pulumi.ComponentResource {
  /** Resolves once every API is enabled. */
  public readonly ready: pulumi.Output<string[]>;

  constructor(name: string, args: ProjectServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:gcp:ProjectServices", name, args, opts);
    const enabled = [...new Set(args.services)]
      .sort()
      .map(
        (service) =>
          new gcp.projects.Service(
            `${name}-${service.split(".")[0]}`,
            { project: args.project, service, disableOnDestroy: false, disableDependentServices: false },
            { parent: this },
          ),
      );
    this.ready = pulumi.all(enabled.map((s) => s.service));
    this.registerOutputs({ ready: this.ready });
  }
}

/** APIs the storage core and the later layers rely on. */
export const CORE_SERVICES = [
  "bigquery.googleapis.com",
  "bigqueryconnection.googleapis.com",
  "bigquerydatatransfer.googleapis.com",
  "bigquerydatapolicy.googleapis.com",
  "cloudkms.googleapis.com",
  "cloudresourcemanager.googleapis.com",
  "datacatalog.googleapis.com",
  "iam.googleapis.com",
  "logging.googleapis.com",
  "orgpolicy.googleapis.com",
  "secretmanager.googleapis.com",
  "storage.googleapis.com",
] as const;
