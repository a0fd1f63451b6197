/**
 * Reads a `Pulumi.<stack>.yaml` the way the Pulumi CLI hands config to a program: a flat map of
 * `namespace:key` to string, structured values JSON-encoded. Secure values (which only the stack's
 * secrets provider can decrypt) become readable placeholders, and their keys are reported as secret.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { secretPlaceholder } from "../../components/config/placeholders";
import { PROJECT_ROOT } from "../../components/project-root";
import { StackConfigError } from "../../components/config/validate";

export interface StackConfig {
  readonly stackFile: string;
  readonly config: Record<string, string>;
  readonly secretKeys: string[];
}

const isSecure = (v: unknown): v is { secure: string } =>
  typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v;

/** Replaces every `{secure: ...}` leaf with a placeholder naming its path; returns whether any was found. */
function unsecure(value: unknown, at: string, found: { any: boolean }): unknown {
  if (isSecure(value)) {
    found.any = true;
    // Long enough for any length check a schema makes of a secret (write keys, passwords), and a
    // placeholder by the program's own definition, so a real update (`preview: false`) refuses it.
    return secretPlaceholder(at);
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
  const relative = path.relative(PROJECT_ROOT, file);
  const shown = relative && !relative.startsWith("..") ? relative : file;
  // Every syntax problem of the file at once, each with its line and column (the `yaml` package collects
  // them in `errors` with `linePos`): an unclosed `[`, a duplicated key, a tab used as indentation. The
  // Pulumi CLI refuses such a file too; `parse` would throw only the first, as a stack trace.
  const parsed = parseDocument(fs.readFileSync(file, "utf8"));
  if (parsed.errors.length > 0) {
    throw new StackConfigError(
      shown,
      parsed.errors.map((e) => {
        const at = e.linePos?.[0];
        // The message repeats the position and quotes the source ("... at line 4, column 3:\n\n..."): keep the sentence.
        const message = e.message.split(/ at line \d+, column \d+/)[0];
        return `${shown}${at ? `:${at.line}:${at.col}` : ""}: ${message} (${e.code})`;
      }),
    );
  }
  const doc: unknown = parsed.toJS() ?? {};
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
  return { stackFile: shown, config, secretKeys };
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
