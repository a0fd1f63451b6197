/**
 * The reference point: a bare node:http server that reads the body and answers 200, in its own process
 * like the collector, so the ratio measures what the collector's own work costs.
 */
import { createServer } from "node:http";

const OK = Buffer.from('{"success":true}');
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": OK.length });
    res.end(OK);
  });
});
server.keepAliveTimeout = 620_000;
server.listen(0, "127.0.0.1", () => {
  const a = server.address();
  process.stdout.write(
    `${JSON.stringify({ message: "listening", port: typeof a === "object" && a !== null ? a.port : 0 })}\n`,
  );
});
process.once("SIGTERM", () => server.close(() => process.exit(0)));
