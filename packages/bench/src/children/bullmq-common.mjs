// Shared by the BullMQ children (Node 20): where Redis is and which queue a target names.
// BENCH_URL is `redis://127.0.0.1:<port>`; a plain { host, port } makes BullMQ open its own ioredis
// connections (the blocking ones with the settings it needs), as an application's would.
export function redisConnection() {
  const url = process.env.BENCH_URL;
  if (!url) throw new Error("BENCH_URL is required");
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

/**
 * The queue a plan's target names: `poll://any@workers` → "workers", the same group name the SDK
 * runs use (`poll://any@nobody` → "nobody": a queue no worker reads, for the dispatch-alone run).
 */
export function queueOf(target) {
  const at = String(target).lastIndexOf("@");
  return at >= 0 ? String(target).slice(at + 1) : String(target);
}
