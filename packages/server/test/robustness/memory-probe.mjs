// Preloaded into a server child process by the robustness tests (node --expose-gc --import this):
// every MEMORY_PROBE_MS it collects garbage and writes one line {"memoryProbe":{…}} to stderr, so
// that a test sees the memory the server really holds, not garbage waiting for a collection.
const interval = Number(process.env.MEMORY_PROBE_MS ?? 0);
if (interval > 0 && typeof globalThis.gc === "function") {
  setInterval(() => {
    globalThis.gc();
    const m = process.memoryUsage();
    process.stderr.write(`${JSON.stringify({ memoryProbe: { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers } })}\n`);
  }, interval).unref();
}
