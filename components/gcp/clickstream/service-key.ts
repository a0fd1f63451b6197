/**
 * A Cloud KMS key in the cell's key ring for one consuming service that the storage core has no key
 * for (Cloud Functions, Workbench disks), granted to exactly the Google service agents that encrypt
 * with it, with the same rotation and destruction rules as the cell's other keys.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { daysToDuration } from "../../conventions";

export interface ServiceKeyArgs {
  /** The cell key ring's id. */
  readonly keyRingId: pulumi.Input<string>;
  /** Key name inside the ring (the ring is the cell's, so the purpose is enough). */
  readonly keyName: string;
  readonly projectNumber: pulumi.Input<string>;
  /** Service agent domains: `service-<number>@<agent>.iam.gserviceaccount.com`. */
  readonly agents: readonly string[];
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
    const grants = args.agents.map(
      (agent) =>
        new gcp.kms.CryptoKeyIAMMember(
          `${name}-${agent}`,
          {
            cryptoKeyId: this.key.id,
            role: "roles/cloudkms.cryptoKeyEncrypterDecrypter",
            member: pulumi.interpolate`serviceAccount:service-${args.projectNumber}@${agent}.iam.gserviceaccount.com`,
          },
          { parent: this },
        ),
    );
    this.id = pulumi.all([this.key.id, ...grants.map((g) => g.etag)]).apply(([id]) => id);
    this.registerOutputs({ id: this.id });
  }
}
