/**
 * The Pulumi project's folder (the repository root), where `Pulumi.yaml` is: config paths such as a
 * Cassandra source's `connectorJar` are relative to it, and the program builds its Lambda bundles and
 * service archives from it.
 */
import * as path from "node:path";

export const PROJECT_ROOT = path.resolve(__dirname, "..");
