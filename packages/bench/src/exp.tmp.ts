import { analyze } from "./analysis";
import { stopAll } from "./context";
import { cpuMs, makeRunDir } from "./procs";
import { startProducer, startWorkers, type Sdk } from "./sdks";
import { startServer, serverWarnings } from "./server";
const sdk = (process.argv[2] ?? "ours") as Sdk;
const rate = Number(process.argv[3] ?? 200);
const seconds = Number(process.argv[4] ?? 5);
const dir = makeRunDir("exp");
const server = await startServer(dir);
try {
  await startWorkers(sdk, 2, { url: server.url, dir });
  const producer = await startProducer(sdk, { url: server.url, dir, label: "producer", plan: { mode: "rate", n: rate * seconds, rate, warmup: 300, func: "noop", idPrefix: "x", target: "poll://any@workers", resultTimeoutMs: 60000 } });
  await producer.child.waitFor("warm", 120000);
  const c0 = cpuMs(server.child.pid)!;
  const out = await producer.done(200000);
  const t = analyze(out);
  console.log(JSON.stringify({ sdk, rate, seconds, completed: t.completed, errors: t.errors, d2s: t.dispatchToStart, d2r: t.dispatchToResult, lag: t.scheduleLag, serverCpuCores: ((cpuMs(server.child.pid)! - c0) / t.spanMs).toFixed(2) }));
} finally {
  await stopAll(dir, server);
  console.log(JSON.stringify(serverWarnings(dir)), dir);
}
