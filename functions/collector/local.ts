/**
 * `npm run collector:local`: the deployed entry (`server.ts` `main`) on loopback.
 * Same code path as the cloud; only the bind address defaults differ (127.0.0.1, never all interfaces,
 * on a laptop). Configure with the variables in README.md; PUBSUB_EMULATOR_HOST points the client at an
 * emulator or the test gRPC server.
 */
import { main } from "./server";

main({ COLLECTOR_HOST: "127.0.0.1", ...process.env }).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
