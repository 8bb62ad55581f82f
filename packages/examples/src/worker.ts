// A worker of the group "workers": it runs computeSomething for any client that asks the group.
// Start several of them; each invocation runs on exactly one.
//
//   pnpm --filter @resonate-compat/examples worker [--json] [--concurrency N] [--ttl MS]

import { parseArgs } from "node:util";
import { Resonate } from "@resonate-compat/sdk";
import { printer } from "./print";

const { values: flags } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== "--"), // pnpm passes a literal "--" through
  options: { json: { type: "boolean", default: false }, concurrency: { type: "string" }, ttl: { type: "string" } },
});
const resonate = new Resonate({
  url: process.env.RESONATE_URL ?? "http://127.0.0.1:8001",
  group: "workers",
  concurrency: flags.concurrency === undefined ? undefined : Number(flags.concurrency),
  ttl: flags.ttl === undefined ? undefined : Number(flags.ttl),
});
const print = printer("worker", flags.json, resonate.pid);

resonate.register("computeSomething", async (_ctx, id: string, cost: number) => {
  print("started", { id, cost });
  await new Promise((resolve) => setTimeout(resolve, cost));
  print("finished", { id, cost });
  return { id, cost, worker: resonate.pid };
});

await resonate.connected();
// osPid: the operating-system process id running this worker, the one to `kill -9` to simulate a
// crash (`pnpm worker` also starts a pnpm and a tsx launcher process; killing those leaves this one running).
print("ready", { pid: resonate.pid, osPid: process.pid });

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    print("stopping", { pid: resonate.pid });
    void resonate.stop().then(() => process.exit(0));
  });
}
