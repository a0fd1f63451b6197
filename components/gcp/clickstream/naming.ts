/**
 * Names of the clickstream layer's GCP resources, derived from the cell's resource prefix.
 */

/**
 * A service account id (6-30 characters, `[a-z][-a-z0-9]*[a-z0-9]`) for `purpose` in a cell:
 * `lakehouse-prod-br` + `collector` -> `lh-prod-br-collector`. Truncated from the left part, never from
 * the purpose, so two purposes in one cell stay distinct.
 */
export function serviceAccountId(resourcePrefix: string, purpose: string): string {
  const short = resourcePrefix.replace(/^lakehouse-/, "lh-");
  const room = 30 - purpose.length - 1;
  if (room < 2) throw new RangeError(`service account purpose '${purpose}' is too long`);
  const head = short.slice(0, room).replace(/-+$/, "");
  return `${head}-${purpose}`;
}
