// Holds `n` idle poll streams open (GET /poll/<group>/<pid>, distinct pids) as parked workers of a
// group that gets no traffic would. argv[2]: { url, n, group }. Prints {"event":"opened"} once all
// are open (or refused), then keeps them until killed.
import http from "node:http";
import { mark } from "./producer-core.mjs";

const { url, n, group } = JSON.parse(process.argv[2] ?? "{}") as { url: string; n: number; group: string };
const target = new URL(url);
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
const statuses: Record<string, number> = {};
let closed = 0;
const t0 = Date.now();

function open(i: number): Promise<void> {
  return new Promise((resolve) => {
    const req = http.get(
      { host: target.hostname, port: target.port, path: `/poll/${group}/idle-${i}`, agent, headers: { accept: "text/event-stream" } },
      (res) => {
        statuses[String(res.statusCode)] = (statuses[String(res.statusCode)] ?? 0) + 1;
        res.on("data", () => {}); // keep-alive comments
        res.on("close", () => closed++);
        resolve();
      },
    );
    req.on("error", () => {
      statuses.error = (statuses.error ?? 0) + 1;
      resolve();
    });
  });
}

await Promise.all(Array.from({ length: n }, (_, i) => open(i)));
mark("opened", { n, ms: Date.now() - t0, statuses });
setInterval(() => mark("status", { closed }), 5000);
