// A closed-loop HTTP load generator (node:http, keep-alive): `concurrency` connections each send one
// request, wait for the whole answer, and send the next, for `durationMs` after a warm-up.
// argv[2]: { url, body: "echo" | "create" | "get", concurrency, durationMs, warmupMs, getId? }
// Prints {"event":"result", requests, ms, rate, p50, p99, errors}.
import http from "node:http";
import { PROTOCOL_VERSION } from "@resonate-compat/protocol";
import { mark } from "./producer-core.mjs";

interface Spec {
  url: string;
  body: "echo" | "create" | "get";
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  getId?: string;
}
const spec = JSON.parse(process.argv[2] ?? "{}") as Spec;
const target = new URL(spec.url);
const agent = new http.Agent({ keepAlive: true, maxSockets: spec.concurrency });
const tag = Math.random().toString(36).slice(2, 8);
const day = 24 * 3600 * 1000;

/** An envelope of the size and shape the SDKs send (about 500 bytes). */
function body(i: number): string {
  const head = { corrId: `lg-${tag}-${i}`, version: PROTOCOL_VERSION };
  if (spec.body === "get") return JSON.stringify({ kind: "promise.get", head, data: { id: spec.getId } });
  return JSON.stringify({
    kind: "promise.create",
    head,
    data: {
      id: `lg-${tag}-${i}`,
      timeoutAt: Date.now() + day,
      param: { headers: {}, data: Buffer.from(JSON.stringify({ func: "noop", args: [i], version: 1 })).toString("base64") },
      tags: { "resonate:origin": `lg-${tag}-${i}`, "resonate:branch": `lg-${tag}-${i}`, "resonate:parent": `lg-${tag}-${i}`, "resonate:scope": "global" },
    },
  });
}

function post(payload: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: target.hostname, port: target.port, path: "/", method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

let counter = 0;
let measuring = false;
let stopAt = Infinity;
let requests = 0;
let errors = 0;
const latencies: number[] = [];

async function loop(): Promise<void> {
  while (Date.now() < stopAt) {
    const t = performance.now();
    let status = 0;
    try {
      status = await post(body(counter++));
    } catch {
      status = -1;
    }
    if (!measuring) continue;
    if (status !== 200) errors++;
    requests++;
    if (latencies.length < 200_000) latencies.push(performance.now() - t);
  }
}

const loops = Array.from({ length: spec.concurrency }, loop);
setTimeout(() => {
  measuring = true;
}, spec.warmupMs);
const t0 = Date.now() + spec.warmupMs;
stopAt = t0 + spec.durationMs;
await Promise.all(loops);
const ms = Date.now() - t0;
latencies.sort((a, b) => a - b);
const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
agent.destroy();
mark("result", { requests, ms, rate: (requests * 1000) / ms, p50: q(0.5), p99: q(0.99), errors });
