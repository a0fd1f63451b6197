/**
 * The body of a data-subject request (GDPR Art. 15 and 17, LGPD Art. 18) as an operator POSTs it to the
 * intake, checked with every problem listed at once, and its canonical hash (idempotency by requestId).
 *
 * Status semantics: a body that is not JSON or not of the shape below is 400 with every problem; a
 * well-formed body for another jurisdiction than the cell's is 422 (the request is understood, but this
 * cell may not act on it: the subject's data lives in the other cell). 409 (same requestId, other body) is
 * decided by the intake, which alone sees the stored record.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { MAX_IDENTIFIER_CHARS, Pseudonymiser, scrubText } from "../collector/privacy";

export const JURISDICTIONS = ["eu", "br"] as const;
export type Jurisdiction = (typeof JURISDICTIONS)[number];
export const KINDS = ["access", "erasure"] as const;
export type RequestKind = (typeof KINDS)[number];

/** Most identifiers in one request: a person has a handful (an account id, a few devices, an e-mail or two). */
export const MAX_IDENTIFIERS = 20;

export interface SubjectIdentifiers {
  readonly userIds?: readonly string[];
  readonly anonymousIds?: readonly string[];
  readonly emails?: readonly string[];
}

export interface SubjectRequest {
  /** Lower-case UUID (upper-case input, as macOS `uuidgen` prints it, is lower-cased). */
  readonly requestId: string;
  readonly kind: RequestKind;
  readonly jurisdiction: Jurisdiction;
  readonly subject: SubjectIdentifiers;
}

export type ParsedRequest =
  | { readonly ok: true; readonly request: SubjectRequest }
  | { readonly ok: false; readonly status: 400 | 422; readonly problems: readonly string[] };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const isRequestId = (s: string): boolean => UUID.test(s);

/**
 * The collector's own e-mail rule: `scrubText` hashes a value that is one whole address (its `EMAIL_WHOLE`
 * pattern, normalised by trim + lower-case) and returns anything else changed differently or unchanged.
 * Run with a throw-away key, it says whether the collector would have pseudonymised this text as an
 * e-mail, so the intake accepts exactly the addresses whose pseudonyms can exist in the lake.
 */
const PROBE = new Pseudonymiser(Buffer.alloc(32, 1));
const isCollectorEmail = (s: string): boolean => /^[0-9a-f]{64}$/.test(scrubText(s, PROBE)) && s.includes("@");

const identifier = z
  .string({ error: "must be a string" })
  .min(1, "must not be empty")
  .max(MAX_IDENTIFIER_CHARS, `must be at most ${MAX_IDENTIFIER_CHARS} characters (the collector's limit)`);
const email = identifier.refine(isCollectorEmail, "is not an e-mail address");
const list = <T extends z.ZodType>(item: T) => z.array(item, { error: "must be an array of strings" }).optional();

const schema = z
  .object({
    requestId: z
      .string({ error: "is required (a UUID)" })
      .transform((s) => s.toLowerCase())
      .refine(isRequestId, "must be a UUID (8-4-4-4-12 hex digits)"),
    kind: z.enum(KINDS, { error: `must be one of ${KINDS.join(", ")}` }),
    jurisdiction: z.enum(JURISDICTIONS, { error: `must be one of ${JURISDICTIONS.join(", ")}` }),
    subject: z
      .object(
        { userIds: list(identifier), anonymousIds: list(identifier), emails: list(email) },
        { error: "is required: an object with userIds, anonymousIds and/or emails" },
      )
      .strict()
      .superRefine((s, ctx) => {
        const n = (s.userIds?.length ?? 0) + (s.anonymousIds?.length ?? 0) + (s.emails?.length ?? 0);
        if (n === 0) ctx.addIssue({ code: "custom", message: "needs at least one of userIds, anonymousIds, emails" });
        if (n > MAX_IDENTIFIERS)
          ctx.addIssue({ code: "custom", message: `has ${n} identifiers; at most ${MAX_IDENTIFIERS} per request` });
      }),
  })
  .strict();

function describe(issue: z.core.$ZodIssue): string {
  const where = issue.path.length === 0 ? "body" : issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") return `${where}: unknown field(s) ${issue.keys.join(", ")}`;
  return `${where} ${issue.message}`;
}

/** Checks a request body for the cell of `cellJurisdiction`. */
export function parseRequest(body: string, cellJurisdiction: Jurisdiction): ParsedRequest {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (e) {
    return { ok: false, status: 400, problems: [`body is not JSON: ${(e as Error).message}`] };
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) return { ok: false, status: 400, problems: parsed.error.issues.map(describe) };
  const request = parsed.data as SubjectRequest;
  if (request.jurisdiction !== cellJurisdiction) {
    return {
      ok: false,
      status: 422,
      problems: [
        `jurisdiction '${request.jurisdiction}' is not this cell's ('${cellJurisdiction}'): send it to the ${request.jurisdiction} cell's intake`,
      ],
    };
  }
  return { ok: true, request };
}

/**
 * SHA-256 of the canonical body: fixed key order, each identifier list sorted and de-duplicated (the same
 * request re-sent with its ids in another order is the same request), absent and empty lists alike.
 */
export function requestHash(r: SubjectRequest): string {
  const canon = (xs: readonly string[] | undefined) => [...new Set(xs ?? [])].sort();
  const canonical = JSON.stringify([
    r.requestId,
    r.kind,
    r.jurisdiction,
    canon(r.subject.userIds),
    canon(r.subject.anonymousIds),
    canon(r.subject.emails),
  ]);
  return createHash("sha256").update(canonical).digest("hex");
}

/**
 * The subject's pseudonyms, as the collector and the merges compute them: ids hashed exactly as sent
 * (`event.ts` hashes userId/anonymousId unchanged), e-mails through the collector's e-mail rule (trim,
 * lower-case). Sorted and unique.
 */
export function pseudonymsOf(subject: SubjectIdentifiers, p: Pseudonymiser): string[] {
  const out = new Set<string>();
  for (const id of [...(subject.userIds ?? []), ...(subject.anonymousIds ?? [])]) out.add(p.hash(id));
  for (const e of subject.emails ?? []) out.add(scrubText(e, p));
  return [...out].sort();
}
