// Asks the group "workers" to compute something, under a fresh id, and exits at once.
// The work is durable: it completes even though nobody waits. With --wait, waits for the result.
//
//   pnpm --filter @resonate-compat/examples client [--wait] [--json] [--id ID] [--cost MS]

import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { Resonate } from "@resonate-compat/sdk";
import { printer } from "./print";

const { values: flags } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== "--"), // pnpm passes a literal "--" through
  options: {
    wait: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    id: { type: "string" },
    cost: { type: "string" },
  },
});

const resonate = new Resonate({ url: process.env.RESONATE_URL ?? "http://127.0.0.1:8001", group: "client" });
const print = printer("client", flags.json, resonate.pid);

const id = flags.id ?? `job-${randomUUID().slice(0, 8)}`;
const cost = flags.cost === undefined ? 500 + Math.floor(Math.random() * 2500) : Number(flags.cost);

try {
  const handle = await resonate.beginRpc(id, "computeSomething", id, cost, resonate.options({ target: "poll://any@workers" }));
  print("invoked", { id, cost });
  if (flags.wait) print("result", { id, result: await handle.result() });
} catch (err) {
  print("failed", { id, error: err instanceof Error ? err.message : String(err) });
  process.exitCode = 1;
} finally {
  await resonate.stop();
}
