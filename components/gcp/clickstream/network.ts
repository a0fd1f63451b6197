/**
 * The cell's private network for clickstream compute (Dataflow workers, Workbench instances): one
 * custom-mode VPC, one subnet in the cell region with Private Google Access (workers without public IPs
 * still reach Pub/Sub, BigQuery and Cloud Storage), flow logs on. No route to the internet is added:
 * nothing here needs one.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";

export interface ClickstreamNetworkArgs {
  /** The cell's GCP project. */
  readonly project: string;
  /** The cell's GCP region: the subnet lives there. */
  readonly region: string;
  /** `lakehouse-<environment>-<cell>`: physical names start with it. */
  readonly resourcePrefix: string;
  /** Primary range of the subnet. @default "10.64.0.0/20" (4,091 addresses: far above maxWorkers + notebooks) */
  readonly cidr?: string;
}

export class ClickstreamNetwork extends pulumi.ComponentResource {
  public readonly network: gcp.compute.Network;
  public readonly subnetwork: gcp.compute.Subnetwork;
  /** Subnetwork self link, the form Dataflow and Workbench take. */
  public readonly subnetworkSelfLink: pulumi.Output<string>;
  public readonly networkSelfLink: pulumi.Output<string>;

  constructor(name: string, args: ClickstreamNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:gcp:ClickstreamNetwork", name, args, opts);
    this.network = new gcp.compute.Network(
      name,
      {
        project: args.project,
        name: `${args.resourcePrefix}-clickstream`,
        // Custom mode: an auto-mode network would create a subnet in every region of the world.
        autoCreateSubnetworks: false,
        routingMode: "REGIONAL",
        description: "Private network for clickstream processing and notebooks",
      },
      { parent: this },
    );
    this.subnetwork = new gcp.compute.Subnetwork(
      `${name}-subnet`,
      {
        project: args.project,
        name: `${args.resourcePrefix}-clickstream-${args.region}`,
        region: args.region,
        network: this.network.id,
        ipCidrRange: args.cidr ?? "10.64.0.0/20",
        privateIpGoogleAccess: true,
        logConfig: { aggregationInterval: "INTERVAL_5_MIN", flowSampling: 0.5, metadata: "INCLUDE_ALL_METADATA" },
      },
      { parent: this },
    );
    // Built from the names (the documented self-link shapes) so that they carry the region visibly.
    const api = "https://www.googleapis.com/compute/v1";
    this.networkSelfLink = pulumi.interpolate`${api}/projects/${args.project}/global/networks/${this.network.name}`;
    this.subnetworkSelfLink = pulumi.interpolate`${api}/projects/${args.project}/regions/${args.region}/subnetworks/${this.subnetwork.name}`;
    this.registerOutputs({ network: this.networkSelfLink, subnetwork: this.subnetworkSelfLink });
  }
}
