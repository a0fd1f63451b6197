/**
 * The merge's pseudonymisation function on DuckDB: `lakehouse_pseudonymise(VARCHAR) -> VARCHAR`, the
 * collector's own `Pseudonymiser` (HMAC-SHA256 under the cell key, lower-case hex) registered as a
 * scalar function, so the local replay computes exactly what the edge and the Glue job compute.
 */
import { DuckDBScalarFunction, VARCHAR, type DuckDBConnection } from "@duckdb/node-api";
import { Pseudonymiser } from "../collector/privacy";
import { PSEUDONYMISE_FUNCTION } from "./spec";

/** RFC 2104 §3: a key shorter than the hash output (32 bytes for SHA-256) weakens HMAC. */
export const MIN_PSEUDONYMISATION_KEY_BYTES = 32;

/**
 * The key as the stack stores it (`PseudonymisationKey`: 32 random bytes as hex in Secrets Manager and
 * Secret Manager), or base64; hex first because it is unambiguous. glue_job.py's `decode_key` is the
 * same rule.
 */
export function decodePseudonymisationKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]+$/.test(t) && t.length % 2 === 0 ? Buffer.from(t, "hex") : Buffer.from(t, "base64");
  if (key.length < MIN_PSEUDONYMISATION_KEY_BYTES)
    throw new Error(
      `the pseudonymisation key must decode (hex or base64) to at least ${MIN_PSEUDONYMISATION_KEY_BYTES} bytes`,
    );
  return key;
}

/** Registers `lakehouse_pseudonymise` on a connection; NULL in, NULL out (DuckDB's default). */
export function registerPseudonymiseFunction(connection: DuckDBConnection, key: Buffer): void {
  if (key.length < MIN_PSEUDONYMISATION_KEY_BYTES)
    throw new Error(`the pseudonymisation key must be at least ${MIN_PSEUDONYMISATION_KEY_BYTES} bytes`);
  const pseudonymiser = new Pseudonymiser(key);
  connection.registerScalarFunction(
    DuckDBScalarFunction.create({
      name: PSEUDONYMISE_FUNCTION,
      mainFunction: (_info, input, output) => {
        const values = input.getColumnVector(0);
        for (let row = 0; row < input.rowCount; row++) {
          const v = values.getItem(row);
          output.setItem(row, v === null ? null : pseudonymiser.hash(String(v)));
        }
        output.flush();
      },
      returnType: VARCHAR,
      parameterTypes: [VARCHAR],
    }),
  );
}
