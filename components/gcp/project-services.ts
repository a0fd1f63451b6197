/**
 * The Google APIs a cell's project needs, enabled explicitly so a fresh project works on the first
 * `pulumi up`. APIs stay enabled on destroy: disabling one would break whatever else shares the project.
 * The cell creates one of these with every API it needs, before any layer, and its resource
 * transformation (api-requirements.ts) makes each GCP resource depend on its API's `Service`.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { ApiEnablement } from "./api-requirements";

export interface ProjectServicesArgs {
  /** The cell's GCP project. */
  readonly project: string;
  /** API names such as `bigquery.googleapis.com`. */
  readonly services: readonly string[];
}

export class ProjectServices extends pulumi.ComponentResource implements ApiEnablement {
  /**
   * Every API's `projects.Service`, for a `dependsOn` that waits for all of them. A plain array, not
   * an Output: the SDK checks each Output's value for unknowns by walking it, and an Output whose value
   * holds resources walks everything reachable from them (about a fifth of a plan's evaluation time).
   */
  public readonly enabled: readonly gcp.projects.Service[];
  private readonly byApi: ReadonlyMap<string, gcp.projects.Service>;

  constructor(name: string, args: ProjectServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:gcp:ProjectServices", name, args, opts);
    const enabled = [...new Set(args.services)]
      .sort()
      .map(
        (service) =>
          [
            service,
            new gcp.projects.Service(
              `${name}-${service.split(".")[0]}`,
              { project: args.project, service, disableOnDestroy: false, disableDependentServices: false },
              { parent: this },
            ),
          ] as const,
      );
    this.byApi = new Map(enabled);
    this.enabled = enabled.map(([, s]) => s);
    this.registerOutputs({ apis: enabled.map(([api]) => api) });
  }

  /** The `projects.Service` that enables `api`, if this component enables it. */
  serviceFor(api: string): gcp.projects.Service | undefined {
    return this.byApi.get(api);
  }
}

/** APIs the storage core relies on. */
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
