/**
 * Reads the stack config from the Pulumi runtime and validates it, once, before any resource exists.
 */
import * as pulumi from "@pulumi/pulumi";
import type { LakehouseConfig } from "./schema";
import { parseStackConfig } from "./validate";

/** The stack file Pulumi reads config from. */
export function stackFileName(stack: string = pulumi.getStack()): string {
  return `Pulumi.${stack}.yaml`;
}

/**
 * Loads and validates `lakehouse:` config; throws `StackConfigError` listing every problem.
 * Secret values stay plain strings here: the caller wraps them with `pulumi.secret` where they are used.
 */
export function loadConfig(): LakehouseConfig {
  return parseStackConfig(pulumi.runtime.allConfig(), stackFileName());
}
