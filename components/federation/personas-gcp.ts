/**
 * Persona access on GCP for one cell, built from `PERSONA_MATRIX`:
 * - `read` on a BigQuery zone: `READER` (roles/bigquery.dataViewer, in the dataset ACL's legacy form) on
 *   each dataset of the zone, plus
 *   `roles/bigquery.jobUser` on the project (to run queries at all);
 * - `read` on audit: `roles/logging.privateLogViewer` (Data Access audit logs) on the project;
 * - `break-glass`: no standing grant; a Privileged Access Manager entitlement gives the zone's
 *   datasets for at most an hour, with a written justification, approved by the compliance group, and
 *   PAM writes the grant and its expiry to Cloud Audit Logs.
 *
 * - a persona's workload (a service account acting for it, e.g. the data scientists' notebooks): the
 *   persona's `read` zones' datasets, minus the zones its own component grants table by table; never
 *   break-glass, audit or jobs (the workload's component grants what running queries needs).
 *
 * Dataset grants are `gcp.bigquery.DatasetAccess` entries, not `DatasetIamMember`: the provider docs
 * state that the dataset IAM resources "remove any authorized view permissions from the dataset" and
 * fight with DatasetAccess, and the marts are authorized views on these very datasets.
 */
import { DATASET_READER } from "../gcp/dataset-grants";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { LakehouseConfig, PersonaId } from "../config/schema";
import { PERSONAS } from "../config/schema";
import { kebab } from "./personas-aws";
import { PERSONA_MATRIX, type Zone } from "./persona-matrix";

/** The zones that exist on GCP (the raw zone with direct identifiers lives on AWS only). */
export const GCP_DATA_ZONES = ["curated", "clickstream", "marts"] as const satisfies readonly Zone[];
export type GcpDataZone = (typeof GCP_DATA_ZONES)[number];

/** The read role in IAM form, for the break-glass entitlement (dataset ACL entries use `DATASET_READER`). */
export const READ_ROLE = "roles/bigquery.dataViewer";
export const JOB_ROLE = "roles/bigquery.jobUser";
export const AUDIT_ROLE = "roles/logging.privateLogViewer";
/** Longest break-glass grant (PAM allows up to 7 days; an hour is enough to answer an incident). */
export const BREAK_GLASS_MAX_SECONDS = 3600;

export interface GcpPersonaAccessArgs {
  /** The cell's GCP project (dataset grants, break-glass entitlements). */
  readonly project: string;
  /**
   * `lakehouse-<environment>-<cell>`: entitlement ids start with it, because PAM entitlements are global
   * resources of the project.
   */
  readonly resourcePrefix: string;
  /** The cell, for descriptions. */
  readonly cell: string;
  /** `lakehouse:personas`. */
  readonly personas: LakehouseConfig["personas"];
  /** Dataset ids per GCP zone (e.g. curated: [`curated`, `lake`]). */
  readonly datasets: Readonly<Record<GcpDataZone, readonly pulumi.Input<string>[]>>;
  /** The project's API enablements (`ProjectServices.enabled`), Privileged Access Manager among them. */
  readonly apiEnablements: readonly pulumi.Resource[];
  /** Service accounts acting for a persona, with the persona's dataset reads. @default [] */
  readonly workloads?: readonly PersonaWorkload[];
}

/** A service account that acts for a persona (its humans run it), read as the persona reads. */
export interface PersonaWorkload {
  /** The persona it acts for: its `read` zones are granted (break-glass and audit never are). */
  readonly persona: PersonaId;
  /** Short name for logical names (`notebooks`). */
  readonly name: string;
  /** The service account's email. */
  readonly email: pulumi.Input<string>;
  /**
   * Zones the workload's own component grants, more narrowly (the notebooks read the clickstream zone's
   * events table, not its dead-letter table). @default [] (every read zone granted here)
   */
  readonly grantedElsewhere?: readonly GcpDataZone[];
}

/** Maps an IAM member (`group:x`, `user:x`, `serviceAccount:x`) to the DatasetAccess field BigQuery expects. */
export function datasetAccessMember(
  member: string,
): { groupByEmail: string } | { userByEmail: string } | { iamMember: string } {
  const [kind, ...rest] = member.split(":");
  const email = rest.join(":");
  if (kind === "group") return { groupByEmail: email };
  // BigQuery dataset ACLs name service accounts as users (REST Dataset.access.userByEmail).
  if (kind === "user" || kind === "serviceAccount") return { userByEmail: email };
  return { iamMember: member };
}

/** The dataset and its tables, exactly (a prefix match on `lake` would also match `lake_feed`). */
export const breakGlassCondition = (project: string, dataset: string): string =>
  `(resource.name == "projects/${project}/datasets/${dataset}" || ` +
  `resource.name.startsWith("projects/${project}/datasets/${dataset}/"))`;

export class GcpPersonaAccess extends pulumi.ComponentResource {
  /** Break-glass entitlements by persona. */
  public readonly entitlements: Readonly<Partial<Record<PersonaId, gcp.privilegedaccessmanager.Entitlement>>>;

  constructor(name: string, args: GcpPersonaAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:federation:GcpPersonaAccess", name, args, opts);
    const entitlements: Partial<Record<PersonaId, gcp.privilegedaccessmanager.Entitlement>> = {};
    const project = args.project;

    for (const persona of PERSONAS) {
      const members = args.personas[persona]?.gcpMembers ?? [];
      if (members.length === 0) continue;
      const row = PERSONA_MATRIX[persona];
      const id = kebab(persona);
      const readZones = GCP_DATA_ZONES.filter((z) => row[z] === "read");
      const jitZones = GCP_DATA_ZONES.filter((z) => row[z] === "break-glass");

      members.forEach((member, m) => {
        for (const zone of readZones) {
          args.datasets[zone].forEach((datasetId, d) => {
            new gcp.bigquery.DatasetAccess(
              `${name}-${id}-${zone}-${d}-${m}`,
              { project, datasetId, role: DATASET_READER, ...datasetAccessMember(member) },
              { parent: this },
            );
          });
        }
        if (readZones.length > 0) {
          new gcp.projects.IAMMember(`${name}-${id}-jobs-${m}`, { project, role: JOB_ROLE, member }, { parent: this });
        }
        if (row.audit === "read") {
          new gcp.projects.IAMMember(
            `${name}-${id}-audit-${m}`,
            { project, role: AUDIT_ROLE, member },
            { parent: this },
          );
        }
      });

      if (jitZones.length > 0) {
        const approvers = args.personas.compliance?.gcpMembers ?? [];
        const datasetIds = jitZones.flatMap((z) => [...args.datasets[z]]);
        const condition = pulumi
          .all(datasetIds)
          .apply((ids) => ids.map((ds) => breakGlassCondition(project, ds)).join(" || "));
        entitlements[persona] = new gcp.privilegedaccessmanager.Entitlement(
          `${name}-${id}`,
          {
            parent: `projects/${project}`,
            location: "global",
            entitlementId: `${args.resourcePrefix}-${id}`.slice(0, 63),
            eligibleUsers: [{ principals: [...members] }],
            maxRequestDuration: `${BREAK_GLASS_MAX_SECONDS}s`,
            requesterJustificationConfig: { unstructured: {} },
            privilegedAccess: {
              gcpIamAccess: {
                resourceType: "cloudresourcemanager.googleapis.com/Project",
                resource: `//cloudresourcemanager.googleapis.com/projects/${project}`,
                roleBindings: [{ role: READ_ROLE, conditionExpression: condition }, { role: JOB_ROLE }],
              },
            },
            // The DPO approves every break-glass session (four eyes); without a compliance group
            // configured the entitlement still requires a justification and is audited.
            ...(approvers.length > 0
              ? {
                  approvalWorkflow: {
                    manualApprovals: {
                      requireApproverJustification: true,
                      steps: [{ approvalsNeeded: 1, approvers: { principals: [...approvers] } }],
                    },
                  },
                }
              : {}),
          },
          // Waits on the APIs, Privileged Access Manager included (Federation enables it).
          { parent: this, dependsOn: [...args.apiEnablements] },
        );
      }
    }
    for (const w of args.workloads ?? []) {
      const row = PERSONA_MATRIX[w.persona];
      const zones = GCP_DATA_ZONES.filter((z) => row[z] === "read" && !(w.grantedElsewhere ?? []).includes(z));
      for (const zone of zones) {
        args.datasets[zone].forEach((datasetId, d) => {
          new gcp.bigquery.DatasetAccess(
            `${name}-${kebab(w.persona)}-${w.name}-${zone}-${d}`,
            // BigQuery dataset ACLs name service accounts as users (REST Dataset.access.userByEmail).
            { project, datasetId, role: DATASET_READER, userByEmail: w.email },
            { parent: this },
          );
        });
      }
    }
    this.entitlements = entitlements;
    this.registerOutputs({});
  }
}
