// The load-balancing pattern's worker, written with the official Resonate SDK (@resonatehq/sdk).
// Start several: each joins the group "workers"; the server hands every invocation to one of them.
//   pnpm official:worker        (RESONATE_URL defaults to http://127.0.0.1:8001)
import { Resonate } from "@resonatehq/sdk";

const resonate = new Resonate({
  url: process.env.RESONATE_URL ?? "http://127.0.0.1:8001",
  group: "workers",
  // A short lease so that a killed worker's invocations move on quickly in a demo.
  ttl: Number(process.env.RESONATE_TTL ?? 10_000),
});

resonate.register("computeSomething", async (_ctx, id, cost) => {
  console.log(`[${resonate.pid}] start ${id} (cost ${cost} ms)`);
  await new Promise((resolve) => setTimeout(resolve, cost));
  console.log(`[${resonate.pid}] done  ${id}`);
  return `${id} computed by ${resonate.pid}`;
});

console.log(`worker ${resonate.pid} joined group "workers"`);
