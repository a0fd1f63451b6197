/**
 * Reads the stack config from the Pulumi runtime and validates it, once, before any resource exists.
 */
import * as pulumi from "@pulumi/pulumi";
import { placeholderProblems } from "./placeholders";
import type { LakehouseConfig } from "./schema";
import { NAMESPACE, parseStackConfig, StackConfigError } from "./validate";

/** The stack file Pulumi reads config from. */
export function stackFileName(stack: string = pulumi.getStack()): string {
  return `Pulumi.${stack}.yaml`;
}

/**
 * The config keys Pulumi reports as secret (`secure:` in the stack file). The language host hands them to
 * the program in `PULUMI_CONFIG_SECRET_KEYS`, and `pulumi.runtime.isConfigSecret` reads that list (the SDK's
 * own `Config.get` uses it to warn about secrets read as plain values); it is marked internal, so it is
 * looked up defensively and its absence is an error rather than every secret silently counting as plain.
 */
export function secretConfigKeys(keys: readonly string[]): string[] {
  const isConfigSecret = (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
  if (typeof isConfigSecret !== "function") {
    throw new Error(
      "@pulumi/pulumi no longer exports runtime.isConfigSecret: components/config/load.ts cannot tell secret config " +
        "keys from plain ones; update secretConfigKeys for this SDK version",
    );
  }
  return keys.filter((k) => isConfigSecret(k));
}

/** The config keys that hold secrets (set with `pulumi config set --secret`). */
export const SECRET_CONFIG_KEYS = ["sourceCredentials", "collectorWriteKeys"] as const;

/** The validated config without its secrets: what a layer that needs none of them takes. */
export type NonSecretConfig = Omit<LakehouseConfig, (typeof SECRET_CONFIG_KEYS)[number]>;

/** A source's credentials as components receive them: the password a secret Output, never a string. */
export interface SourceCredential {
  readonly username: string;
  readonly password: pulumi.Output<string>;
}

/**
 * The validated config as the program uses it. Secret values are `pulumi.secret` Outputs from here to
 * the resource that stores them: the SDK records a component's args in the state (ComponentResource's
 * constructor sends them unless PULUMI_NODEJS_SKIP_COMPONENT_INPUTS is set, @pulumi/pulumi resource.js)
 * and encrypts only values marked secret, so a plain string anywhere on the way is state in clear text.
 */
export interface DeployConfig extends NonSecretConfig {
  readonly sourceCredentials: Readonly<Record<string, SourceCredential>>;
  /** The collector's write keys. */
  readonly collectorWriteKeys: pulumi.Output<string[]>;
}

/** Marks the config's secret values secret (validation itself is pure and works on plain strings). */
export function withSecrets(config: LakehouseConfig): DeployConfig {
  const sourceCredentials = Object.fromEntries(
    Object.entries(config.sourceCredentials).map(([name, c]) => [
      name,
      { username: c.username, password: pulumi.secret(c.password) },
    ]),
  );
  return { ...config, sourceCredentials, collectorWriteKeys: pulumi.secret(config.collectorWriteKeys) };
}

/**
 * Loads and validates `lakehouse:` config (and every other namespace of the stack file, for typos); throws
 * `StackConfigError` listing every problem, before any resource is declared. A real update (not a
 * preview) also refuses the stack files' placeholders (placeholders.ts), reported in the same error.
 * Secret values come back as secret Outputs (DeployConfig).
 */
export function loadConfig(): DeployConfig {
  const all = pulumi.runtime.allConfig();
  const stackFile = stackFileName();
  const secretKeys = secretConfigKeys(Object.keys(all));
  // A preview creates nothing, so it may evaluate placeholders (CI previews the committed stack files).
  const placeholders = pulumi.runtime.isDryRun()
    ? []
    : placeholderProblems(all, [...secretKeys, ...SECRET_CONFIG_KEYS.map((k) => `${NAMESPACE}:${k}`)]);
  let config: LakehouseConfig;
  try {
    config = parseStackConfig(all, stackFile, secretKeys);
  } catch (err) {
    if (err instanceof StackConfigError && placeholders.length > 0) {
      throw new StackConfigError(stackFile, [...err.problems, ...placeholders]);
    }
    throw err;
  }
  if (placeholders.length > 0) throw new StackConfigError(stackFile, placeholders);
  return withSecrets(config);
}
