/**
 * What a placeholder is, in one place. The stack files ship values that only stand in for a real one:
 * secrets (`secure: v1:replace-with-pulumi-config-set-secret`), the sources' CA certificates (a PEM whose
 * body is the base64 of `REPLACE-WITH-THE-SOURCE-DATABASE-CA-CERTIFICATE`) and Oracle wallets (the base64
 * of `REPLACE-WITH-THE-SOURCE-CA-ORACLE-WALLET ...`); the offline plan stands in for every `secure:`
 * value it cannot decrypt with `replace-with-secret-for-<key>` (tools/plan/stack-config.ts). A preview may
 * evaluate them (nothing is created); a real update must not deploy them: DMS would only fail on the
 * first connection, halfway through the update. Pure: no Pulumi runtime needed.
 */

/** The marker every placeholder carries, in clear or inside a base64 body (compared case-insensitively). */
export const PLACEHOLDER_MARKER = "replace-with";

/** The offline plan's stand-in for a `secure:` value at `key` (it has no secrets provider to decrypt it). */
export function secretPlaceholder(key: string): string {
  return `${PLACEHOLDER_MARKER}-secret-for-${key}`.replace(/[^A-Za-z0-9_.:-]/g, "-");
}

const PEM_ARMOR = /-----(?:BEGIN|END) [A-Z0-9 ]+-----/g;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * True when `value` is a placeholder: the marker in clear, or in the base64 a PEM body or a wallet holds
 * (a real certificate or wallet decodes to DER/binary, which never spells the marker).
 */
export function isPlaceholder(value: string): boolean {
  const marker = PLACEHOLDER_MARKER.toLowerCase();
  if (value.toLowerCase().includes(marker)) return true;
  const body = value.replace(PEM_ARMOR, "").replace(/\s+/g, "");
  if (body.length === 0 || !BASE64.test(body)) return false;
  return Buffer.from(body, "base64").toString("latin1").toLowerCase().includes(marker);
}

/** Decodes a flat config value the way Pulumi stores it: structured values JSON-encoded, strings raw. */
function decode(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** Keys (`ns:key.path[0].leaf`, as validation names them) of every string leaf that is a placeholder, in config order. */
export function placeholderKeys(raw: Readonly<Record<string, string>>): string[] {
  const found: string[] = [];
  const walk = (v: unknown, at: string): void => {
    if (typeof v === "string") {
      if (isPlaceholder(v)) found.push(at);
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, `${at}[${i}]`));
    } else if (typeof v === "object" && v !== null) {
      for (const [k, x] of Object.entries(v)) walk(x, `${at}.${k}`);
    }
  };
  for (const [key, value] of Object.entries(raw)) walk(decode(value), key);
  return found;
}

/**
 * One problem per placeholder, for a real update (`pulumi up`), naming the key and how to set it; keys
 * under `secretKeys` (`ns:key`) are set with `--secret` so that they reach the state encrypted.
 */
export function placeholderProblems(raw: Readonly<Record<string, string>>, secretKeys: readonly string[]): string[] {
  return placeholderKeys(raw).map((key) => {
    const top = key.replace(/[.[].*$/, "");
    const flags = `${secretKeys.includes(top) ? "--secret " : ""}${key === top ? "" : "--path "}`;
    return (
      `${key}: is still the stack file's placeholder, which a real update would deploy; set the real value ` +
      `(pulumi config set ${flags}'${key}' <value>) before \`pulumi up\` (a preview accepts placeholders)`
    );
  });
}
