// Deliberately wrong servers for the kit's negative tests, in the test process.
//  - "sloppy": speaks the envelope of protocol 2026-04-01 but answers every request 200 {} (no
//    validation, no records, no SSE) — the kit must run and report failures;
//  - "foreign": an HTTP server that is not a Resonate server at all — the kit must refuse to run.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeServer {
  url: string;
  close(): Promise<void>;
}

export async function startFakeServer(kind: "sloppy" | "foreign"): Promise<FakeServer> {
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      if (kind === "foreign" || req.method !== "POST" || req.url !== "/") {
        res.writeHead(404, { "content-type": "text/plain" }).end("not found");
        return;
      }
      let env: { kind?: unknown; head?: { corrId?: unknown } } = {};
      try {
        env = JSON.parse(body);
      } catch {
        // sloppy: an unparsable body is answered like any other
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ kind: env.kind ?? "unknown", head: { corrId: env.head?.corrId ?? "0", status: 200, version: "2026-04-01" }, data: {} }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
