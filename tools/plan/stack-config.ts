/**
 * Reads a `Pulumi.<stack>.yaml` the way the Pulumi CLI hands config to a program: a flat map of
 * `namespace:key` to string, structured values JSON-encoded. Secure values (which only the stack's
 * secrets provider can decrypt) become readable placeholders, and their keys are reported as secret.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

export interface StackConfig {
  readonly stackFile: string;
  readonly config: Record<string, string>;
  readonly secretKeys: string[];
}

export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

const isSecure = (v: unknown): v is { secure: string } =>
  typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v;

/** Replaces every `{secure: ...}` leaf with a placeholder naming its path; returns whether any was found. */
function unsecure(value: unknown, at: string, found: { any: boolean }): unknown {
  if (isSecure(value)) {
    found.any = true;
    // Long enough for any length check a schema makes of a secret (write keys, passwords).
    return `placeholder-secret-for-${at}`.replace(/[^A-Za-z0-9_.:-]/g, "-");
  }
  if (Array.isArray(value)) return value.map((v, i) => unsecure(v, `${at}[${i}]`, found));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unsecure(v, `${at}.${k}`, found)]));
  }
  return value;
}

/**
 * Resolves which stack file to read.
 * @param stack stack name; `Pulumi.<stack>.yaml` in the project root
 * @param stackFile explicit file (fixtures), relative to the project root or absolute
 */
export function resolveStackFile(stack: string, stackFile?: string): string {
  const file = stackFile ?? `Pulumi.${stack}.yaml`;
  return path.isAbsolute(file) ? file : path.join(PROJECT_ROOT, file);
}

export function readStackConfig(stack: string, stackFile?: string): StackConfig {
  const file = resolveStackFile(stack, stackFile);
  if (!fs.existsSync(file)) {
    throw new Error(`No stack file ${path.relative(PROJECT_ROOT, file)} for stack '${stack}'`);
  }
  const doc: unknown = parse(fs.readFileSync(file, "utf8")) ?? {};
  const raw =
    typeof doc === "object" && doc !== null && "config" in doc && typeof doc.config === "object" && doc.config
      ? (doc.config as Record<string, unknown>)
      : {};
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    const found = { any: false };
    const plain = unsecure(value, key, found);
    if (found.any) secretKeys.push(key);
    config[key] = typeof plain === "string" ? plain : JSON.stringify(plain);
  }
  return { stackFile: path.relative(PROJECT_ROOT, file) || file, config, secretKeys };
}

/** Lays overrides over a flat config map: objects are JSON-encoded as Pulumi does; `null` removes a key. */
export function applyOverrides(
  config: Record<string, string>,
  overrides: Readonly<Record<string, unknown>> | undefined,
): Record<string, string> {
  const out = { ...config };
  for (const [k, v] of Object.entries(overrides ?? {})) {
    if (v === null) delete out[k];
    else out[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return out;
}
