/**
 * A Cloud KMS key in the cell's key ring for one consuming service that the storage core has no key
 * for (Cloud Functions, Workbench disks), granted to exactly the Google service agents that encrypt
 * with it, with the same rotation and destruction rules as the cell's other keys.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { daysToDuration } from "../../conventions";
import type { ApiEnablement } from "../api-requirements";

export interface ServiceKeyArgs {
  /** The cell key ring's id. */
  readonly keyRingId: pulumi.Input<string>;
  /** Key name inside the ring (the ring is the cell's, so the purpose is enough). */
  readonly keyName: string;
  readonly projectNumber: pulumi.Input<string>;
  /**
   * The service agents that encrypt with the key: the domain of `service-<number>@<domain>.iam.gserviceaccount.com`
   * and the API whose enablement creates the agent (a grant to an agent that does not exist yet fails:
   * cloud.google.com/iam/docs/create-service-agents).
   */
  readonly agents: readonly { readonly domain: string; readonly api: string }[];
  /** The cell's API enablement: each grant waits for its agent's API. */
  readonly apis: ApiEnablement;
  /** @default 90 */
  readonly rotationDays?: number;
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
      {
        name: args.keyName,
        keyRing: args.keyRingId,
        purpose: "ENCRYPT_DECRYPT",
        rotationPeriod: daysToDuration(args.rotationDays ?? 90),
        destroyScheduledDuration: daysToDuration(30),
        versionTemplate: { algorithm: "GOOGLE_SYMMETRIC_ENCRYPTION", protectionLevel: "SOFTWARE" },
        deletionPolicy: args.protect ? "PREVENT" : "DELETE",
      },
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
          role: "roles/cloudkms.cryptoKeyEncrypterDecrypter",
          member: pulumi.interpolate`serviceAccount:service-${args.projectNumber}@${domain}.iam.gserviceaccount.com`,
        },
        { parent: this, dependsOn: [enabled] },
      );
    });
    this.id = pulumi.all([this.key.id, ...grants.map((g) => g.etag)]).apply(([id]) => id);
    this.registerOutputs({ id: this.id });
  }
}
