// Reproduction (found by `pnpm bench`, latency workload): a healthy worker was cut off as
// "poll stream disconnected: client is not reading" when a stalled peer's offers are re-offered to
// it all at once.
//
//   node packages/bench/repro/reoffer-cutoff.mjs http://127.0.0.1:8001 [creates=600] [group=r1]
//
// Two poll streams join one group: "stalled" reads its socket but never acquires (a worker whose
// event loop is stuck, e.g. in GC or starved of CPU), "healthy" reads everything and acquires every
// execute at once. N promises for the group are created, 32 in flight. After --reoffer-after (1 s)
// the stalled stream's unanswered offers go to "healthy" in one synchronous pass; up to 985f2ca the
// poll route counted every message written in that pass as "waiting" (its write callback had not run
// yet), so at 100 (--buffer-size) it destroyed the healthy stream with about 12 KB buffered.
// Expected: healthy.closed = false. Observed on 985f2ca: healthy.closed = true in 4 runs of 4;
// on 53539ba (after 5c739ff: a stream is cut only when backed up for 1 s): false in 4 runs of 4.
import http from "node:http";

const url = process.argv[2] ?? "http://127.0.0.1:8001";
const N = Number(process.argv[3] ?? 600);
const group = process.argv[4] ?? "r1";
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

const post = (body) =>
  new Promise((resolve, reject) => {
    const r = http.request(`${url}/`, { method: "POST", agent, headers: { "content-type": "application/json" } }, (res) => {
      res.resume();
      res.on("end", resolve);
    });
    r.on("error", reject);
    r.end(JSON.stringify(body));
  });

const streams = {};
for (const name of ["stalled", "healthy"]) {
  await new Promise((resolve) => {
    const s = (streams[name] = { events: 0, closed: false });
    http.get(`${url}/poll/${group}/${group}-${name}`, { headers: { accept: "text/event-stream" } }, (res) => {
      res.setEncoding("utf8");
      let buf = "";
      res.on("data", (chunk) => {
        s.events += (chunk.match(/^data: /gm) ?? []).length;
        if (name !== "healthy") return;
        buf += chunk;
        let k;
        while ((k = buf.indexOf("\n\n")) >= 0) {
          const event = buf.slice(0, k);
          buf = buf.slice(k + 2);
          if (!event.startsWith("data: ")) continue;
          const m = JSON.parse(event.slice(6));
          if (m.kind !== "execute") continue;
          const { id, version } = m.data.task;
          post({ kind: "task.acquire", head: { corrId: "a", version: "2026-04-01" }, data: { id, version, pid: `${group}-healthy`, ttl: 60_000 } }).catch(() => {});
        }
      });
      res.on("close", () => {
        s.closed = true;
      });
      resolve();
    });
  });
}
await new Promise((r) => setTimeout(r, 300));

// 32 in flight, so that ≥ 100 of the stalled stream's offers fall into one re-offer period (500 ms).
let next = 0;
const t0 = Date.now();
await Promise.all(
  Array.from({ length: 32 }, async () => {
    while (next < N) {
      const id = `${group}-${next++}`;
      await post({
        kind: "promise.create",
        head: { corrId: "c", version: "2026-04-01" },
        data: { id, timeoutAt: Date.now() + 3_600_000, param: {}, tags: { "resonate:target": `poll://any@${group}` } },
      });
    }
  }),
);
const createMs = Date.now() - t0;
await new Promise((r) => setTimeout(r, 2500));
console.log(JSON.stringify({ creates: N, createMs, streams }));
process.exit(0);
