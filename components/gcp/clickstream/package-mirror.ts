/**
 * Python packages for notebooks without internet: an Artifact Registry remote repository in the cell
 * region that proxies and caches the public PyPI, encrypted with a key of its own, readable by the
 * notebooks' service account only. The instances reach it through Private Google Access (the
 * `<region>-python.pkg.dev` host is a Google API front end; network.ts) and pip is pointed at it by the
 * Workbench post-startup script (workbench-startup.ts).
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { classification, daysToDuration } from "../../conventions";
import { cmekKeyArgs, idOnceGranted, KEY_USER_ROLE } from "../cmek-key";

/** Artifact Registry's reader role: download artifacts (and, for a remote repository, fetch them upstream). */
export const PACKAGE_READER_ROLE = "roles/artifactregistry.reader";
/** The repository id inside the cell's project and region. */
export const PYPI_REPOSITORY_ID = "pypi-mirror";

/**
 * The pip index of a Python repository: `https://<location>-python.pkg.dev/<project>/<repository>/simple/`
 * (cloud.google.com/artifact-registry/docs/python/authentication, "Configure pip").
 */
export function pipIndexUrl(region: string, project: string, repositoryId: string = PYPI_REPOSITORY_ID): string {
  return `https://${region}-python.pkg.dev/${project}/${repositoryId}/simple/`;
}

export interface PackageMirrorArgs {
  /** The cell's GCP project. */
  readonly project: string;
  /** The cell's GCP region: the repository, its cache and its key live there. */
  readonly region: string;
  /** `lakehouse-<environment>-<cell>`: the description names the cell. */
  readonly resourcePrefix: string;
  /** The cell key ring's id: the repository gets a key of its own there (`artifacts`). */
  readonly keyRingId: pulumi.Input<string>;
  /** Principals that may install from the mirror (the notebooks' service account), nothing else. */
  readonly readers: readonly pulumi.Input<string>[];
  /** Days a cached package version is kept after its upload to the cache. @default 180 */
  readonly cacheDays?: number;
  /** Production: the key cannot be destroyed through Pulumi. */
  readonly protect: boolean;
}

export class PackageMirror extends pulumi.ComponentResource {
  public readonly key: gcp.kms.CryptoKey;
  public readonly repository: gcp.artifactregistry.Repository;
  /** The pip index URL (`.../simple/`). */
  public readonly indexUrl: string;

  constructor(name: string, args: PackageMirrorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lakehouse:gcp:PackageMirror", name, {}, opts);
    const child = { parent: this };
    const { project, region } = args;

    // The Artifact Registry agent encrypts the repository's cache with the key ("Enabling customer-managed
    // encryption keys", Artifact Registry docs). It is created on demand (generateServiceIdentity, which
    // waits for artifactregistry.googleapis.com through api-requirements.ts), then granted, then the key's
    // id is released to the repository: a repository created before its agent may use the key fails.
    const agent = new gcp.projects.ServiceIdentity(
      `${name}-agent`,
      { project, service: "artifactregistry.googleapis.com" },
      child,
    );
    this.key = new gcp.kms.CryptoKey(
      `${name}-key`,
      cmekKeyArgs({ name: "artifacts", keyRing: args.keyRingId, protect: args.protect }),
      child,
    );
    const grant = new gcp.kms.CryptoKeyIAMMember(
      `${name}-key-agent`,
      { cryptoKeyId: this.key.id, role: KEY_USER_ROLE, member: agent.member },
      child,
    );

    this.repository = new gcp.artifactregistry.Repository(
      name,
      {
        project,
        location: region,
        repositoryId: PYPI_REPOSITORY_ID,
        description: `${args.resourcePrefix}: PyPI, proxied and cached in ${region} for the notebooks`,
        format: "PYTHON",
        mode: "REMOTE_REPOSITORY",
        remoteRepositoryConfig: {
          description: "The public Python Package Index",
          pythonRepository: { publicRepository: "PYPI" },
        },
        // A remote repository takes a CMEK at creation like a standard one (cloud.google.com/artifact-registry/
        // docs/repositories/remote-repo, "Before you begin": a Cloud KMS key to encrypt repository content).
        kmsKeyName: idOnceGranted(this.key, [grant]),
        // Cached versions are re-fetched on demand; keeping them bounded keeps the cache to what is in use.
        cleanupPolicyDryRun: false,
        cleanupPolicies: [
          {
            id: "expire-cached-versions",
            action: "DELETE",
            condition: { tagState: "ANY", olderThan: daysToDuration(args.cacheDays ?? 180) },
          },
        ],
        // Third-party code, no personal data.
        labels: classification("none"),
      },
      child,
    );
    args.readers.forEach(
      (member, i) =>
        new gcp.artifactregistry.RepositoryIamMember(
          `${name}-reader-${i}`,
          {
            project,
            location: region,
            repository: this.repository.name,
            role: PACKAGE_READER_ROLE,
            member,
          },
          child,
        ),
    );
    this.indexUrl = pipIndexUrl(region, project);
    this.registerOutputs({ repository: this.repository.id, indexUrl: this.indexUrl });
  }
}
