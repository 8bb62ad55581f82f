// Raw protocol traffic for the scale workload (node:http, keep-alive), argv[2] = one of
//   { mode: "seed", url, prefix, from, to, concurrency }
//       ids prefix-from … prefix-(to-1) each become a finished rpc, exactly as a worker leaves it:
//       task.create (promise + task, acquired by a process "seed" that has no stream) then
//       task.fulfill (promise resolved, task fulfilled). Prints {"event":"result", ms, rate, errors}.
//   { mode: "probe", url, prefix, count, existing: { prefix, size } }
//       `count` sequential promise.create (new ids, no target) then `count` sequential promise.get
//       of random existing ids; one request in flight, so each time is one request's latency.
//       Prints {"event":"result", create: Summary, get: Summary, errors}.
import { PROTOCOL_VERSION } from "@resonate-compat/protocol";
import { summarize } from "../stats";
import { mark } from "./producer-core.mjs";
import { DAY, RawClient, encodedValue, invocationParam, rootTags } from "./raw-protocol";

type Spec =
  | { mode: "seed"; url: string; prefix: string; from: number; to: number; concurrency: number }
  | { mode: "probe"; url: string; prefix: string; count: number; existing: { prefix: string; size: number } };

const spec = JSON.parse(process.argv[2] ?? "{}") as Spec;
const client = new RawClient(spec.url);
const call = client.call.bind(client);
const param = (i: number) => invocationParam("noop", [i]);

async function seed(s: Extract<Spec, { mode: "seed" }>): Promise<void> {
  let next = s.from;
  let errors = 0;
  let firstError: string | undefined;
  const t0 = Date.now();
  const worker = async () => {
    while (next < s.to) {
      const i = next++;
      const id = `${s.prefix}-${i}`;
      try {
        const created = await call("task.create", {
          pid: "seed",
          ttl: 60_000,
          action: {
            kind: "promise.create",
            head: { corrId: `seed-${i}`, version: PROTOCOL_VERSION },
            data: { id, timeoutAt: Date.now() + DAY, param: param(i), tags: { ...rootTags(id), "resonate:target": "poll://any@seed-nobody" } },
          },
        });
        if (created.status !== 200) throw new Error(`task.create ${created.status}: ${JSON.stringify(created.data)}`);
        const version = created.data.task.version as number;
        const value = encodedValue({ s: Date.now(), w: -1 });
        const done = await call("task.fulfill", {
          id,
          version,
          action: { kind: "promise.settle", head: { corrId: `seedf-${i}`, version: PROTOCOL_VERSION }, data: { id, state: "resolved", value } },
        });
        if (done.status !== 200) throw new Error(`task.fulfill ${done.status}: ${JSON.stringify(done.data)}`);
      } catch (e) {
        errors++;
        firstError ??= String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: s.concurrency }, worker));
  const ms = Date.now() - t0;
  mark("result", { rows: s.to - s.from, ms, rate: ((s.to - s.from) * 1000) / ms, requestRate: (2 * (s.to - s.from) * 1000) / ms, errors, firstError });
}

async function probe(p: Extract<Spec, { mode: "probe" }>): Promise<void> {
  let errors = 0;
  const creates: number[] = [];
  const gets: number[] = [];
  for (let i = 0; i < p.count; i++) {
    const id = `${p.prefix}-${i}`;
    const t = performance.now();
    const res = await call("promise.create", { id, timeoutAt: Date.now() + DAY, param: param(i), tags: rootTags(id) });
    creates.push(performance.now() - t);
    if (res.status !== 200) errors++;
  }
  for (let i = 0; i < p.count; i++) {
    const id = p.existing.size > 0 ? `${p.existing.prefix}-${Math.floor(Math.random() * p.existing.size)}` : `${p.prefix}-${i}`;
    const t = performance.now();
    const res = await call("promise.get", { id });
    gets.push(performance.now() - t);
    if (res.status !== 200) errors++;
  }
  const round3 = (s: ReturnType<typeof summarize>) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, Math.round(v * 1000) / 1000]));
  mark("result", { create: round3(summarize(creates)), get: round3(summarize(gets)), errors });
}

if (spec.mode === "seed") await seed(spec);
else await probe(spec);
client.close();
