/**
 * The deployed entry point: `npm start` runs `node dist/server.js` in the container Cloud Build makes
 * from this folder, and `npm run collector:local` (repo root) runs this same `main()` through tsx.
 */
import { createServer, type Server } from "node:http";
import { declaresOversizeBody } from "./body";
import { type CollectorConfig, loadConfig } from "./config";
import { MAX_BATCH_BYTES } from "./event";
import { gcsSuppressionSource } from "./gcs-suppression";
import { createCollector, log } from "./handler";
import { Publisher } from "./publisher";
import { type SuppressionSource, SuppressionList, SuppressionLoader } from "./suppression";
import { TransformWorker } from "./worker-pool";

export interface RunningCollector {
  readonly server: Server;
  readonly publisher: Publisher;
  readonly port: number;
  /** Erased subjects in force (empty when SUPPRESSION_OBJECT_URI is unset). */
  readonly suppression: SuppressionList;
  /** Drains: stop accepting, answer what is in flight, flush Pub/Sub, close the client. */
  stop(): Promise<void>;
}

/**
 * Cloud Run sends SIGTERM and kills the instance 10 s later
 * (cloud.google.com/run/docs/container-contract#instance-shutdown); the drain must fit inside that.
 */
const SHUTDOWN_BUDGET_MS = 8_000;

/** server.requestTimeout/headersTimeout are enforced by a sweep this often (Node's default is 30 s). */
const CONNECTIONS_CHECK_MS = 1_000;

/**
 * `suppressionSource` replaces the GCS read of `config.suppression` (tests).
 * @default the object read with @google-cloud/storage (gcs-suppression.ts)
 */
export async function startCollector(
  config: CollectorConfig,
  suppressionSource?: SuppressionSource,
): Promise<RunningCollector> {
  const suppression = new SuppressionList();
  let loader: SuppressionLoader | undefined;
  const source =
    suppressionSource ??
    (config.suppression !== undefined
      ? gcsSuppressionSource(config.suppression.bucket, config.suppression.object)
      : undefined);
  if (source !== undefined) {
    loader = new SuppressionLoader(suppression, source, { refreshMs: config.suppressionRefreshMs, log });
    // Before listening: an erased subject's events must not be published while the list is unread.
    await loader.start();
  }
  const publisher = new Publisher(config);
  const worker = new TransformWorker(
    config,
    (err) => log("WARNING", "transform worker unavailable, transforming on the event-loop thread", err),
    suppression,
  );
  const collector = createCollector(config, publisher, worker, suppression);
  // How often Node checks requestTimeout/headersTimeout (default 30 s): the 408 comes at most this long
  // after the deadline. The check walks only connections with a request under way (a list kept in C++).
  const server = createServer({ connectionsCheckingInterval: CONNECTIONS_CHECK_MS }, collector);
  // Google's front end keeps upstream connections open up to 620 s; a shorter Node timeout makes the
  // front end hit closed sockets (502s).
  server.keepAliveTimeout = 620_000;
  // A request must arrive whole, headers and body, within bodyTimeoutMs of its first byte, or Node
  // answers 408 and closes the connection (Node docs, http `server.requestTimeout`; the request handler
  // is waiting for the body's `end`, which never comes). Without it a request that declares more bytes
  // than it sends holds its connection and its memory. Since Node 18 both timeouts count from the
  // request's first byte, and an idle keep-alive connection is not timed by them (keepAliveTimeout
  // closes it), so they no longer need to exceed keepAliveTimeout (nodejs/node#27363 was Node ≤ 17).
  // RFC 9110 §10.1.1: a client that sends `Expect: 100-continue` (curl does for large bodies) waits for
  // 100 before the body; a declared size no route accepts gets its final 400 instead, so the upload is
  // never sent (without this listener Node answers 100 to every such request). Every other request gets
  // its 100 and the usual handling, which still checks each route's own limit.
  server.on("checkContinue", (req, res) => {
    if (!declaresOversizeBody(req, MAX_BATCH_BYTES)) res.writeContinue();
    collector(req, res);
  });
  server.requestTimeout = config.bodyTimeoutMs;
  server.headersTimeout = config.bodyTimeoutMs;
  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error): void => {
      void loader?.stop();
      reject(err);
    };
    server.once("error", failed);
    server.listen(config.port, config.host, () => {
      server.off("error", failed);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : config.port;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      collector.drain();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Idle keep-alive sockets would hold close() open until they time out.
      server.closeIdleConnections();
      const budget = new Promise<void>((resolve) => setTimeout(resolve, SHUTDOWN_BUDGET_MS).unref());
      await Promise.race([closed, budget]);
      await Promise.race([publisher.flush(), budget]);
      await publisher.close().catch((err: unknown) => log("WARNING", "closing the Pub/Sub client", err));
      server.closeAllConnections();
      await worker.close();
      await loader?.stop();
    })();
    return stopping;
  };
  return { server, publisher, port, suppression, stop };
}

/** Starts from environment variables and installs the SIGTERM/SIGINT drain. */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<RunningCollector> {
  const config = loadConfig(env);
  const running = await startCollector(config);
  const onSignal = (signal: NodeJS.Signals): void => {
    log("INFO", `${signal}: draining`);
    running.stop().then(
      () => {
        log("INFO", "drained, exiting");
        process.exit(0);
      },
      (err: unknown) => {
        log("ERROR", "drain failed", err);
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  log("INFO", `collector listening on ${config.host}:${running.port}, topic ${config.topic}`);
  // A machine-readable line so tools that start the collector on port 0 learn the port.
  process.stdout.write(`${JSON.stringify({ severity: "INFO", message: "listening", port: running.port })}\n`);
  return running;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    log("ERROR", err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
