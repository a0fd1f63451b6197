/**
 * A Cloud KMS key in the cell's key ring for one consuming service that the storage core has no key
 * for (Cloud Run, Workbench disks), granted to exactly the Google service agents that encrypt
 * with it, made like the cell's other keys (cmek-key.ts).
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { ApiEnablement } from "../api-requirements";
import { cmekKeyArgs, idOnceGranted, KEY_USER_ROLE } from "../cmek-key";

export interface ServiceKeyArgs {
  /** The cell key ring's id. */
  readonly keyRingId: pulumi.Input<string>;
  /** Key name inside the ring (the ring is the cell's, so the purpose is enough). */
  readonly keyName: string;
  /** The project's number: service agents' addresses are built from it. */
  readonly projectNumber: pulumi.Input<string>;
  /**
   * The service agents that encrypt with the key: the domain of `service-<number>@<domain>.iam.gserviceaccount.com`
   * and the API whose enablement creates the agent (a grant to an agent that does not exist yet fails:
   * cloud.google.com/iam/docs/create-service-agents).
   */
  readonly agents: readonly { readonly domain: string; readonly api: string }[];
  /** The cell's API enablement: each grant waits for its agent's API. */
  readonly apis: ApiEnablement;
  /** Rotation period in days. @default KEY_ROTATION_DAYS (90, cmek-key.ts) */
  readonly rotationDays?: number;
  /** Prevent key destruction through Pulumi (production). */
  readonly protect: boolean;
}

export class ServiceKey extends pulumi.ComponentResource {
  public readonly key: gcp.kms.CryptoKey;
  /** The key id; resolves only after every agent may use it. */
  public readonly id: pulumi.Output<string>;

  constructor(name: string, args: ServiceKeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:gcp:ServiceKey", name, args, opts);
    this.key = new gcp.kms.CryptoKey(
      name,
      cmekKeyArgs({
        name: args.keyName,
        keyRing: args.keyRingId,
        rotationDays: args.rotationDays,
        protect: args.protect,
      }),
      { parent: this },
    );
    const grants = args.agents.map(({ domain, api }) => {
      const enabled = args.apis.serviceFor(api);
      if (enabled === undefined)
        throw new Error(`${name}: the agent ${domain} needs ${api}, which the cell does not enable`);
      return new gcp.kms.CryptoKeyIAMMember(
        `${name}-${domain}`,
        {
          cryptoKeyId: this.key.id,
          role: KEY_USER_ROLE,
          member: pulumi.interpolate`serviceAccount:service-${args.projectNumber}@${domain}.iam.gserviceaccount.com`,
        },
        { parent: this, dependsOn: [enabled] },
      );
    });
    this.id = idOnceGranted(this.key, grants);
    this.registerOutputs({ id: this.id });
  }
}
