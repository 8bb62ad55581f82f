import http from "node:http";
import type { Logger } from "pino";
import type { Metrics } from "./metrics";

/**
 * The optional second listener (--observability-metrics-port): GET /metrics and nothing else, so
 * that a scraper can be given this port without reaching the protocol. Returns its port and a close.
 */
export async function listenMetrics(metrics: Metrics, host: string, port: number, logger: Logger): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    if (request.method !== "GET" || (request.url ?? "").split("?")[0] !== "/metrics") {
      response.writeHead(404).end();
      return;
    }
    metrics.render().then(
      (text) => response.writeHead(200, { "content-type": metrics.contentType }).end(text),
      (error: unknown) => {
        logger.error({ err: error }, "metrics: scrape failed");
        response.writeHead(500).end();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
