/**
 * Every key and string of a published message, with the JSON-text fields (`context`, `properties`,
 * `traits`) parsed, for "nothing identifying survives" assertions. `decoded` adds each string's
 * URL-decoded form (an e-mail can hide as `%40` in a query string).
 */
export function publishedStrings(root: unknown, opts: { readonly decoded?: boolean } = {}): string[] {
  const out: string[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === "string") {
      out.push(v);
      if (opts.decoded) {
        try {
          out.push(decodeURIComponent(v));
        } catch {
          // not percent-encoded text
        }
      }
      if (v.startsWith("{")) stack.push(JSON.parse(v) as unknown);
    } else if (Array.isArray(v)) stack.push(...(v as unknown[]));
    else if (v !== null && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        out.push(k);
        stack.push(x);
      }
    }
  }
  return out;
}
