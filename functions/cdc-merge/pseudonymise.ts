/**
 * The merge's pseudonymisation function on DuckDB: `lakehouse_pseudonymise(VARCHAR) -> VARCHAR`, the
 * collector's own `Pseudonymiser` (HMAC-SHA256 under the cell key, lower-case hex) registered as a
 * scalar function, so the local replay computes exactly what the edge and the Glue job compute.
 */
import { DuckDBScalarFunction, VARCHAR, type DuckDBConnection } from "@duckdb/node-api";
import { decodeHmacKey, MIN_HMAC_KEY_BYTES, Pseudonymiser } from "../collector/privacy";
import { PSEUDONYMISE_FUNCTION } from "./spec";

/**
 * The key as the stack stores it, decoded by the collector's own rule (`decodeHmacKey`: hex, else
 * base64); refused below MIN_HMAC_KEY_BYTES.
 */
export function decodePseudonymisationKey(text: string): Buffer {
  const key = decodeHmacKey(text);
  if (key.length < MIN_HMAC_KEY_BYTES)
    throw new Error(`the pseudonymisation key must decode (hex or base64) to at least ${MIN_HMAC_KEY_BYTES} bytes`);
  return key;
}

/** Registers `lakehouse_pseudonymise` on a connection; NULL in, NULL out (DuckDB's default). */
export function registerPseudonymiseFunction(connection: DuckDBConnection, key: Buffer): void {
  if (key.length < MIN_HMAC_KEY_BYTES)
    throw new Error(`the pseudonymisation key must be at least ${MIN_HMAC_KEY_BYTES} bytes`);
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
