// The official SDK's flows against the server (spec §12, §15.15), with real Node 22 processes:
// workers of the run's own group, a client driven over stdin. Root ids carry the run id, so the
// checks can run against a server that holds other data.
import type { Check, CheckContext } from "../check.js";
import { equal, eventually, ok, status } from "../expect.js";
import { command, Fleet } from "./fleet.js";
import type { Marker, SdkProcess } from "./process.js";

const RESULT_MS = 30_000;

/** Two generator-engine workers in the run's group and a client in `<group>-client`. */
async function generatorFleet(ctx: CheckContext): Promise<{ workers: SdkProcess[]; client: SdkProcess; target: string }> {
  const fleet = Fleet.of(ctx);
  return fleet.once("generator", async () => {
    const [workers, client] = await Promise.all([
      fleet.startMany(2, "worker", { CONF_GROUP: ctx.group }),
      fleet.start("client", "client.mjs", { CONF_GROUP: `${ctx.group}-client` }),
    ]);
    return { workers, client, target: `poll://any@${ctx.group}` };
  });
}

function starts(procs: SdkProcess[], id: string): Array<{ from: string; pid: string }> {
  return procs.flatMap((p) => p.events("start", (m) => m.id === id).map((m) => ({ from: p.label, pid: String(m.pid) })));
}

/** SDK root ids must not contain ':' (0.11.5); ours are `conf-<run>-<name>-<n>`. */
function rootId(ctx: CheckContext, name: string): string {
  return ctx.id(`sdk-${name}`);
}

export const sdkChecks: Check[] = [
  {
    name: "sdk: run — resonate.run executes a workflow in the caller, each ctx.run step once",
    spec: "§12.4, §15.15",
    async run(ctx) {
      const { client } = await generatorFleet(ctx);
      const id = rootId(ctx, "run");
      const r = await command(client, { op: "run", id, func: "durableFlow", args: [10] }, RESULT_MS);
      equal(r.ok ? r.value : r.error, { a: 11, b: 12 }, "result");
      equal(client.events("step", (m) => String(m.id).startsWith(`${id}:`)).map((m) => m.name), ["a", "b"], "steps executed");
      equal(status(await ctx.api.call("promise.get", { id }), 200, "promise.get").promise.state, "resolved", "root promise");
    },
  },
  {
    name: "sdk: rpc — beginRpc to the worker group runs the function on a worker",
    spec: "§12.2, §15.15 #130",
    async run(ctx) {
      const { workers, client, target } = await generatorFleet(ctx);
      const id = rootId(ctx, "rpc");
      const r = await command(client, { op: "rpc", id, func: "compute", args: [21, 0], target }, RESULT_MS);
      ok(r.ok, `rpc failed: ${JSON.stringify(r.error)}`);
      equal([r.value.n, r.value.doubled], [21, 42], "result");
      const ran = starts(workers, id);
      equal(ran.length, 1, "executions");
      equal(r.value.pid, ran[0]!.pid, "the executor named in the result");
      equal(status(await ctx.api.call("task.get", { id }), 200, "task.get").task.state, "fulfilled", "task");
    },
  },
  {
    name: "sdk: sleep — ctx.sleep(1500) suspends the workflow and wakes it on time",
    spec: "§12.5, §15.15 #134",
    async run(ctx) {
      const { client, target } = await generatorFleet(ctx);
      const r = await command(client, { op: "rpc", id: rootId(ctx, "sleep"), func: "sleeper", args: [1500], target }, RESULT_MS);
      ok(r.ok, `sleeper failed: ${JSON.stringify(r.error)}`);
      ctx.note(`ctx.sleep(1500) took ${r.value.slept} ms`);
      // The upper bound only catches a sleep that waits for something else (a retry, a lease):
      // wide enough for a loaded CI machine.
      ok(r.value.slept >= 1500 && r.value.slept < 1500 + 8000, `slept ${r.value.slept} ms (expected 1500 to 9500)`);
    },
  },
  {
    name: "sdk: external resolution — a latent ctx.promise() settled through resonate.promises.resolve",
    spec: "§12.6, §15.15 #136",
    async run(ctx) {
      const { client, target } = await generatorFleet(ctx);
      const id = rootId(ctx, "signal");
      const ref = { op: "rpc", id, func: "waitForSignal", args: [], target };
      const pending = command(client, ref, RESULT_MS);
      pending.catch(() => undefined); // awaited below; a failure in between must not go unhandled
      // The latent promise is the workflow's first child: `<root>:0` in SDK 0.11.5.
      await command(client, { op: "resolve", id: `${id}:0`, value: { approved: true } }, RESULT_MS);
      const r = await pending;
      equal(r.ok ? r.value : r.error, { got: { approved: true } }, "result");
    },
  },
  {
    name: "sdk: retries — a flaky function succeeds on its 3rd attempt; a failure with Never reaches the caller",
    spec: "§12.7",
    async run(ctx) {
      const { workers, client, target } = await generatorFleet(ctx);
      const flaky = rootId(ctx, "flaky");
      const fails = rootId(ctx, "fails");
      const flow = rootId(ctx, "flaky-flow");
      const [a, b, c] = await Promise.all([
        command(client, { op: "rpc", id: flaky, func: "flaky", args: [flaky, 2], target, retry: { type: "constant", delay: 50, maxRetries: 5 } }, RESULT_MS),
        command(client, { op: "rpc", id: fails, func: "alwaysFails", args: ["boom"], target, retry: { type: "never" } }, RESULT_MS),
        command(client, { op: "rpc", id: flow, func: "flakyFlow", args: [flow, 2], target }, RESULT_MS),
      ]);
      equal(a.ok ? a.value : a.error, { key: flaky, attempts: 3 }, "flaky result");
      equal(b.ok ? b.value : b.error, { name: "Error", message: "boom" }, "alwaysFails error");
      equal(c.ok ? c.value : c.error, { key: flow, attempts: 3 }, "ctx.run retried inside a workflow");
      equal(workers.flatMap((w) => w.events("attempt", (m) => m.id === fails)).length, 1, "attempts with Never");
      equal(status(await ctx.api.call("promise.get", { id: fails }), 200, "promise.get").promise.state, "rejected", "the failed promise");
    },
  },
  {
    name: "sdk: schedules — resonate.schedule fires on a worker; deleting it removes the schedule",
    spec: "§12.8, §15.15 #135",
    async run(ctx) {
      const { workers, client, target } = await generatorFleet(ctx);
      const name = rootId(ctx, "sched");
      await command(client, { op: "schedule", name, cron: "*/2 * * * * *", func: "compute", args: [1, 0], target }, RESULT_MS);
      try {
        // 0.11.5 names fired promises `<name>-<timestamp>`.
        const fired = (m: Marker) => String(m.id).startsWith(`${name}-`);
        await Promise.any(workers.map((w) => w.waitFor("finish", fired, 10_000, "a scheduled execution")));
        ctx.note(`fired as ${workers.flatMap((w) => w.events("start", fired)).map((m) => m.id)[0]}`);
      } finally {
        await command(client, { op: "unschedule", name }, RESULT_MS);
      }
      status(await ctx.api.call("schedule.get", { id: name }), 404, "schedule.get after delete");
    },
  },
  {
    name: "sdk: async engine — an async workflow with ctx.run, ctx.rpc and ctx.sleep",
    spec: "§12, @resonatehq/sdk/async",
    async run(ctx) {
      const fleet = Fleet.of(ctx);
      const group = `${ctx.group}-async`;
      const { client } = await fleet.once("async", async () => {
        const [worker, client] = await Promise.all([
          fleet.start("async-worker", "worker.mjs", { CONF_GROUP: group, CONF_ENGINE: "async" }),
          fleet.start("async-client", "client.mjs", { CONF_GROUP: `${group}-client`, CONF_ENGINE: "async" }),
        ]);
        return { worker, client };
      });
      const r = await command(client, { op: "rpc", id: rootId(ctx, "async"), func: "asyncFlow", args: [1, group, 500], target: group }, RESULT_MS);
      ok(r.ok, `asyncFlow failed: ${JSON.stringify(r.error)}`);
      equal([r.value.a, r.value.remote.doubled], [2, 4], "result");
      ok(r.value.slept >= 500, `slept ${r.value.slept} ms (expected ≥ 500)`);
    },
  },
  {
    name: "sdk: load balancing — 16 rpcs over two workers: every result, each executed once, both workers used",
    spec: "§12.2, §15.15 #130",
    async run(ctx) {
      const { workers, client, target } = await generatorFleet(ctx);
      const ids = Array.from({ length: 16 }, (_, i) => rootId(ctx, `lb${i}`));
      const results = await Promise.all(ids.map((id, i) => command(client, { op: "rpc", id, func: "compute", args: [i, 30], target }, RESULT_MS)));
      results.forEach((r, i) => ok(r.ok && r.value.doubled === 2 * i, `${ids[i]}: ${JSON.stringify(r)}`));
      const perId = ids.map((id) => starts(workers, id).length);
      equal(perId.filter((n) => n !== 1), [], "invocations not executed exactly once");
      const perWorker = workers.map((w) => ids.filter((id) => starts([w], id).length > 0).length);
      ctx.note(`executions per worker: ${perWorker.join(", ")}`);
      ok(perWorker.every((n) => n > 0), `all 16 ran on one worker (${perWorker.join(", ")})`);
    },
  },
  {
    name: "sdk: the same id run by two clients at once — one execution, both get its result",
    spec: "§6.2.2, §15.15 #133",
    async run(ctx) {
      const fleet = Fleet.of(ctx);
      const { client } = await generatorFleet(ctx);
      const second = await fleet.once("second-client", () => fleet.start("client-2", "client.mjs", { CONF_GROUP: `${ctx.group}-client` }));
      const id = rootId(ctx, "dup-run");
      // beginRun executes in the caller: one task.create wins (200), the other gets 409 and listens.
      const cmd = { op: "run", id, func: "compute", args: [5, 1500] };
      const [a, b] = await Promise.all([command(client, cmd, RESULT_MS), command(second, cmd, RESULT_MS)]);
      const ran = starts([client, second], id);
      // Who ran it and what each client got: a second execution is then diagnosable from the report.
      const who = ran.map((r) => `${r.from} (pid ${r.pid})`).join(", ") || "nobody";
      equal(ran.length, 1, `executions by ${who}; answers ${JSON.stringify([a, b])}`);
      for (const [label, r] of [
        ["first client", a],
        ["second client", b],
      ] as const) {
        ok(r.ok, `${label}: ${JSON.stringify(r.error)}`);
        equal([r.value.doubled, r.value.pid], [10, ran[0]!.pid], `${label}'s result (value, executor)`);
      }
    },
  },
  {
    name: "sdk: kill mid-claim — a worker SIGKILLed while executing; the task finishes on another worker",
    spec: "§15.15 #131",
    async run(ctx) {
      const fleet = Fleet.of(ctx);
      const group = `${ctx.group}-failover`;
      // A short lease so that the lapse is quick (the SDK heartbeats at a fraction of it).
      const env = { CONF_GROUP: group, CONF_TTL: "4000" };
      const { client } = await generatorFleet(ctx);
      // The first worker hangs in the function: the only way to kill it mid-claim for sure.
      const doomed = await fleet.start("failover-1", "worker.mjs", { ...env, CONF_HANG_MS: "600000" });
      const id = rootId(ctx, "failover");
      const pending = command(client, { op: "rpc", id, func: "compute", args: [7, 0], target: `poll://any@${group}` }, RESULT_MS);
      pending.catch(() => undefined); // awaited below; a failure in between must not go unhandled
      await doomed.waitFor("start", (m) => m.id === id, 15_000, `the start of ${id}`);
      const survivor = await fleet.start("failover-2", "worker.mjs", env);
      const killedAt = Date.now();
      await doomed.kill();
      const r = await pending;
      ok(r.ok, `rpc failed: ${JSON.stringify(r.error)}`);
      equal(r.value.pid, survivor.sdkPid, "executor of the result (the surviving worker)");
      ctx.note(`finished on the other worker ${Date.now() - killedAt} ms after the SIGKILL`);
      const task = await eventually(async () => {
        const t = status(await ctx.api.call("task.get", { id }), 200, "task.get").task;
        return t.state === "fulfilled" ? t : undefined;
      }, 5000, "the task fulfilled");
      ok(task.version >= 2, `the task was acquired twice (version ${task.version}, expected ≥ 2)`);
    },
  },
];
