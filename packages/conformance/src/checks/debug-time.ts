// Scenarios that need a server in debug mode (spec §15.1 harness conventions): `now` fixed per
// request with head["resonate:debug_time"], background work advanced with debug.tick, state read
// with debug.snap. Differences from the spec's harness, so that the kit can run against a server
// that holds other data: no debug.reset; every assertion looks only at the run's own ids; the
// background loops are paused (debug.start) for these checks and resumed (debug.stop) at the end of
// the suite. T is the spec's T (2026-01-01), in the past, so a debug.tick at T+x can only expire
// entities created at debug time (everyone else's deadlines are later).
import type { Api } from "../api.js";
import type { CheckContext, Check } from "../check.js";
import { equal, matches, ok, status } from "../expect.js";
import { action, callbacks, nobody } from "./common.js";

export const T = 1767225600000;

/** Pause the server's loops once per suite run; resume them when the suite ends. */
async function paused(ctx: CheckContext): Promise<void> {
  if (ctx.shared.has("paused")) return;
  status(await ctx.api.call("debug.start", {}), 200, "debug.start");
  ctx.shared.set("paused", true);
  ctx.atSuiteEnd(async () => {
    await ctx.api.call("debug.stop", {});
  });
}

interface Snap {
  promises: any[];
  promiseTimeouts: any[];
  callbacks: any[];
  listeners: any[];
  tasks: any[];
  taskTimeouts: any[];
  messages: any[];
}

const KEYS = ["promises", "promiseTimeouts", "callbacks", "listeners", "tasks", "taskTimeouts", "messages"] as const;

/** debug.snap, restricted to entries that concern `prefix` or its children (`prefix.…`). */
async function snap(api: Api, prefix: string): Promise<Snap> {
  const s = status(await api.call("debug.snap", {}), 200, "debug.snap");
  for (const k of KEYS) ok(Array.isArray(s[k]), `debug.snap must have an array '${k}', got ${JSON.stringify(s[k])?.slice(0, 80)}`);
  const mine = (v: unknown) => typeof v === "string" && (v === prefix || v.startsWith(`${prefix}.`));
  const concerns = (e: any) =>
    mine(e.id) || mine(e.awaiter) || mine(e.awaited) || mine(e.message?.data?.task?.id) || mine(e.message?.data?.promise?.id);
  const out = {} as Snap;
  for (const k of KEYS) out[k] = s[k].filter(concerns);
  return out;
}

async function tick(api: Api, time: number): Promise<void> {
  equal(status(await api.call("debug.tick", { time }, { time }), 200, `debug.tick ${time}`), [], `debug.tick ${time} answer`);
}

function executes(s: Snap, id: string): any[] {
  return s.messages.filter((m) => m.message?.kind === "execute" && m.message?.data?.task?.id === id);
}

/** The server's retry interval R, read off the retry timeout of a fresh task (30 000 by default). */
async function retryInterval(ctx: CheckContext): Promise<number> {
  const known = ctx.shared.get("R");
  if (typeof known === "number") return known;
  const id = ctx.id("r-probe");
  const at = ctx.api.at(T);
  status(await at.call("promise.create", { id, timeoutAt: T + 3_600_000, tags: { "resonate:target": nobody(ctx) } }), 200, "promise.create");
  const tt = (await snap(ctx.api, id)).taskTimeouts.find((t) => t.id === id);
  ok(tt && typeof tt.timeout === "number" && tt.timeout > T, `no retry timeout for a fresh task in debug.snap: ${JSON.stringify(tt)}`);
  ctx.shared.set("R", tt.timeout - T);
  return tt.timeout - T;
}

const debugCheck = (name: string, spec: string, run: (ctx: CheckContext) => Promise<void>): Check => ({
  name: `debug: ${name}`,
  spec,
  needs: "debug",
  async run(ctx) {
    await paused(ctx);
    await run(ctx);
  },
});

export const debugChecks: Check[] = [
  debugCheck("debug.tick validates time; equal debug_time → 200 []", "§15.12 #106", async ({ api }) => {
    status(await api.call("debug.tick", {}), 400, "debug.tick {}");
    status(await api.call("debug.tick", { time: "x" }), 400, 'debug.tick {time:"x"}');
    status(await api.call("debug.tick", { time: T }, { time: T + 1 }), 400, "debug_time ≠ time");
    await tick(api, T);
  }),
  debugCheck("create with target at T → promise timeout, retry timeout at T+R, queued execute(v0)", "§15.3 #25–26", async (ctx) => {
    const R = await retryInterval(ctx);
    ctx.note(`retry interval R = ${R} ms`);
    const id = ctx.id("t1");
    const at = ctx.api.at(T);
    status(await at.call("promise.create", { id, timeoutAt: T + 60_000, tags: { "resonate:target": nobody(ctx) } }), 200, "promise.create");
    const s = await snap(ctx.api, id);
    equal(s.promiseTimeouts, [{ id, timeout: T + 60_000 }], "promiseTimeouts");
    matches(s.taskTimeouts[0], { id, type: 0, timeout: T + R }, "taskTimeouts");
    equal(executes(s, id).map((m) => [m.address, m.message.data]), [[nobody(ctx), { task: { id, version: 0 } }]], "queued executes");
    const late = ctx.id("t1-late");
    status(await at.call("promise.create", { id: late, timeoutAt: T, tags: { "resonate:target": nobody(ctx) } }), 200, "promise.create expired");
    const s2 = await snap(ctx.api, late);
    matches(s2.tasks[0], { id: late, state: "fulfilled", version: 0 }, "task of an expired create");
    equal([s2.promiseTimeouts, s2.taskTimeouts, s2.messages], [[], [], []], "no timeouts and no messages for an expired create");
  }),
  debugCheck("lease expiry at exactly T+ttl → pending, retry timeout, execute re-queued", "§15.6 #62", async (ctx) => {
    const R = await retryInterval(ctx);
    const id = ctx.id("lease");
    const at = ctx.api.at(T);
    await at.call("promise.create", { id, timeoutAt: T + 3_600_000, tags: { "resonate:target": nobody(ctx) } });
    status(await at.call("task.acquire", { id, version: 0, pid: "w1", ttl: 1000 }), 200, "acquire");
    matches((await snap(ctx.api, id)).taskTimeouts[0], { id, type: 1, timeout: T + 1000 }, "lease timeout");
    await tick(ctx.api, T + 999);
    matches((await snap(ctx.api, id)).tasks[0], { state: "acquired", version: 1 }, "task at T+999");
    await tick(ctx.api, T + 1000);
    const s = await snap(ctx.api, id);
    matches(s.tasks[0], { state: "pending", version: 1 }, "task at T+1000");
    matches(s.taskTimeouts[0], { type: 0, timeout: T + 1000 + R }, "retry timeout after the lapse");
    equal(executes(s, id).map((m) => m.message.data.task), [{ id, version: 1 }], "queued execute after the lapse");
  }),
  debugCheck("heartbeat renews the lease from its time; other pids do not", "§15.6 #63–64", async (ctx) => {
    const id = ctx.id("hb");
    const at = ctx.api.at(T);
    await at.call("promise.create", { id, timeoutAt: T + 3_600_000, tags: { "resonate:target": nobody(ctx) } });
    await at.call("task.acquire", { id, version: 0, pid: "w1", ttl: 1000 });
    status(await ctx.api.at(T + 900).call("task.heartbeat", { pid: "w2", tasks: [{ id, version: 1 }] }), 200, "heartbeat of another pid");
    matches((await snap(ctx.api, id)).taskTimeouts[0], { timeout: T + 1000 }, "lease after another pid's heartbeat");
    status(await ctx.api.at(T + 900).call("task.heartbeat", { pid: "w1", tasks: [{ id, version: 1 }] }), 200, "heartbeat");
    await tick(ctx.api, T + 1000);
    matches((await snap(ctx.api, id)).tasks[0], { state: "acquired" }, "task at T+1000 after the heartbeat");
    await tick(ctx.api, T + 1900);
    matches((await snap(ctx.api, id)).tasks[0], { state: "pending" }, "task at T+1900");
  }),
  debugCheck("a pending task is re-dispatched every R (one queued execute per task)", "§15.6 #66", async (ctx) => {
    const R = await retryInterval(ctx);
    const id = ctx.id("retry");
    await ctx.api.at(T).call("promise.create", { id, timeoutAt: T + 10 * R, tags: { "resonate:target": nobody(ctx) } });
    await tick(ctx.api, T + R - 1);
    matches((await snap(ctx.api, id)).taskTimeouts[0], { timeout: T + R }, "retry timeout before T+R");
    await tick(ctx.api, T + R);
    const s = await snap(ctx.api, id);
    matches(s.taskTimeouts[0], { type: 0, timeout: T + 2 * R }, "retry timeout after T+R");
    equal(executes(s, id).length, 1, "queued executes for the task");
  }),
  debugCheck("the background pass times out promises without target; timers resolve", "§15.3 #32–33, C1", async (ctx) => {
    const plain = ctx.id("bg");
    const timer = ctx.id("bg-timer");
    const at = ctx.api.at(T);
    await at.call("promise.create", { id: plain, timeoutAt: T + 10 });
    await at.call("promise.create", { id: timer, timeoutAt: T + 10, tags: { "resonate:timer": "true" } });
    await tick(ctx.api, T + 10);
    matches((await snap(ctx.api, plain)).promises[0], { state: "rejected_timedout", settledAt: T + 10 }, "plain promise in the snapshot");
    matches((await snap(ctx.api, timer)).promises[0], { state: "resolved", settledAt: T + 10, value: {} }, "timer in the snapshot");
  }),
  debugCheck("sleep: a task suspended on a timer is resumed when the timer fires", "§15.7 #78", async (ctx) => {
    const r = ctx.id("sleeper");
    const s = `${r}.0`;
    const at = ctx.api.at(T);
    await at.call("promise.create", { id: r, timeoutAt: T + 3_600_000, tags: { "resonate:target": nobody(ctx) } });
    await at.call("promise.create", { id: s, timeoutAt: T + 5000, tags: { "resonate:timer": "true" } });
    await at.call("task.acquire", { id: r, version: 0, pid: "w1", ttl: 60_000 });
    status(await at.call("task.suspend", { id: r, version: 1, actions: callbacks(r, [s]) }), 200, "suspend on the timer");
    const before = await snap(ctx.api, r);
    equal(before.callbacks.map((c) => [c.awaiter, c.awaited]), [[r, s]], "callbacks while suspended");
    await tick(ctx.api, T + 5000);
    const after = await snap(ctx.api, r);
    matches(after.promises.find((p) => p.id === s), { state: "resolved", settledAt: T + 5000 }, "timer after the tick");
    matches(after.tasks.find((t) => t.id === r), { state: "pending", version: 1, resumes: 1 }, "task after the tick");
    equal(executes(after, r).map((m) => m.message.data.task), [{ id: r, version: 1 }], "queued execute for the resumed task");
  }),
  debugCheck("a listener gets an unblock carrying the timed-out promise", "§15.3 #38", async (ctx) => {
    const id = ctx.id("listen-timeout");
    const address = `poll://uni@conf-${ctx.runId}-client/c1`;
    const at = ctx.api.at(T);
    await at.call("promise.create", { id, timeoutAt: T + 10 });
    status(await at.call("promise.register_listener", { awaited: id, address }), 200, "register_listener");
    equal((await snap(ctx.api, id)).listeners.map((l) => l.address), [address], "listeners");
    await tick(ctx.api, T + 10);
    const s = await snap(ctx.api, id);
    const unblocks = s.messages.filter((m) => m.message?.kind === "unblock");
    equal(unblocks.map((m) => m.address), [address], "queued unblocks");
    matches(unblocks[0].message.data.promise, { id, state: "rejected_timedout" }, "unblocked promise");
    equal(s.listeners, [], "listeners after the settlement");
  }),
  debugCheck("a schedule fires at nextRunAt: promise with schedule tags, task, lastRunAt/nextRunAt advance", "§15.11 #97, #100", async (ctx) => {
    const id = ctx.id("sched");
    const at = ctx.api.at(T);
    const s = status(
      await at.call("schedule.create", { id, cron: "*/5 * * * *", promiseId: "{{.id}}.{{.timestamp}}", promiseTimeout: 60_000, promiseParam: {}, promiseTags: { "resonate:target": nobody(ctx) } }),
      200,
      "schedule.create",
    ).schedule;
    try {
      matches(s, { createdAt: T, nextRunAt: T + 300_000, lastRunAt: undefined }, "schedule record");
      await tick(ctx.api, T + 300_000);
      const pid = `${id}.${T + 300_000}`;
      const p = status(await ctx.api.at(T + 300_000).call("promise.get", { id: pid }), 200, `promise ${pid}`).promise;
      matches(p, { state: "pending", timeoutAt: T + 360_000, createdAt: T + 300_000 }, "fired promise");
      matches(p.tags, { "resonate:target": nobody(ctx), "resonate:schedule": id }, "fired promise tags");
      matches(status(await ctx.api.at(T + 300_000).call("task.get", { id: pid }), 200, "fired task").task, { state: "pending", version: 0 }, "fired task");
      matches(status(await ctx.api.at(T + 300_000).call("schedule.get", { id }), 200, "schedule.get").schedule, { lastRunAt: T + 300_000, nextRunAt: T + 600_000 }, "schedule after firing");
    } finally {
      await ctx.api.call("schedule.delete", { id });
    }
  }),
  debugCheck("cron day-of-week 1 is Monday, in UTC", "§15.11 #105, C6", async (ctx) => {
    const id = ctx.id("cron-dow");
    const s = status(
      await ctx.api.at(T).call("schedule.create", { id, cron: "0 9 * * 1", promiseId: "{{.id}}.{{.timestamp}}", promiseTimeout: 60_000, promiseParam: {}, promiseTags: { "resonate:target": nobody(ctx) } }),
      200,
      "schedule.create",
    ).schedule;
    await ctx.api.call("schedule.delete", { id });
    equal(s.nextRunAt, 1767603600000, "nextRunAt (Monday 2026-01-05 09:00 UTC)");
  }),
  debugCheck("resonate:delay defers the first dispatch to the delay time", "§15.10 #94, C5", async (ctx) => {
    const R = await retryInterval(ctx);
    const id = ctx.id("delay");
    status(await ctx.api.at(T).call("promise.create", { id, timeoutAt: T + 60_000, tags: { "resonate:target": nobody(ctx), "resonate:delay": String(T + 5000) } }), 200, "promise.create with delay");
    const s = await snap(ctx.api, id);
    equal(executes(s, id), [], "queued executes before the delay");
    matches(s.taskTimeouts[0], { type: 0, timeout: T + 5000 }, "first retry timeout at the delay");
    await tick(ctx.api, T + 4999);
    equal(executes(await snap(ctx.api, id), id), [], "queued executes at T+4999");
    await tick(ctx.api, T + 5000);
    const after = await snap(ctx.api, id);
    equal(executes(after, id).length, 1, "queued executes at T+5000");
    matches(after.taskTimeouts[0], { timeout: T + 5000 + R }, "retry timeout after the first dispatch");
    status(await ctx.api.at(T).call("promise.create", { id: ctx.id("delay-bad"), timeoutAt: T + 60_000, tags: { "resonate:target": nobody(ctx), "resonate:delay": "abc" } }), 400, "delay 'abc'");
  }),
  debugCheck("a halted task gets no retry; continue queues an execute", "§15.9 #89–90", async (ctx) => {
    const R = await retryInterval(ctx);
    const id = ctx.id("halt");
    const at = ctx.api.at(T);
    await at.call("promise.create", { id, timeoutAt: T + 10 * R, tags: { "resonate:target": nobody(ctx) } });
    status(await at.call("task.halt", { id }), 200, "halt");
    const s = await snap(ctx.api, id);
    equal(s.taskTimeouts, [], "task timeouts of a halted task");
    await tick(ctx.api, T + R);
    equal(executes(await snap(ctx.api, id), id).length, executes(s, id).length, "executes queued by a tick while halted");
    status(await ctx.api.at(T + R).call("task.continue", { id }), 200, "continue");
    const after = await snap(ctx.api, id);
    equal(executes(after, id).map((m) => m.message.data.task), [{ id, version: 0 }], "queued execute after continue");
    matches(after.taskTimeouts[0], { type: 0, timeout: T + 2 * R }, "retry timeout after continue");
  }),
  debugCheck("register_callback on a settled promise resumes a suspended awaiter", "§15.3 #41", async (ctx) => {
    const t = ctx.id("cb-resume");
    const at = ctx.api.at(T);
    await at.call("promise.create", { id: t, timeoutAt: T + 3_600_000, tags: { "resonate:target": nobody(ctx) } });
    await at.call("promise.create", { id: `${t}.0`, timeoutAt: T + 3_600_000 });
    await at.call("promise.create", { id: `${t}.done`, timeoutAt: T + 3_600_000 });
    await at.call("promise.settle", { id: `${t}.done`, state: "resolved" });
    await at.call("task.acquire", { id: t, version: 0, pid: "w1", ttl: 60_000 });
    status(await at.call("task.suspend", { id: t, version: 1, actions: callbacks(t, [`${t}.0`]) }), 200, "suspend");
    status(await at.call("promise.register_callback", { awaited: `${t}.done`, awaiter: t }), 200, "register_callback on a settled promise");
    const s = await snap(ctx.api, t);
    matches(s.tasks.find((x) => x.id === t), { state: "pending", version: 1, resumes: 1 }, "awaiter after register_callback");
    equal(executes(s, t).map((m) => m.message.data.task), [{ id: t, version: 1 }], "queued execute");
  }),
  debugCheck("after its own deadline a task's fulfill/suspend → 409 and the promise is rejected_timedout", "§15.7 #75, §15.8 #82", async (ctx) => {
    const id = ctx.id("deadline");
    const at = ctx.api.at(T);
    await at.call("promise.create", { id, timeoutAt: T + 1000, tags: { "resonate:target": nobody(ctx) } });
    await at.call("promise.create", { id: `${id}.0`, timeoutAt: T + 3_600_000 });
    await at.call("task.acquire", { id, version: 0, pid: "w1", ttl: 60_000 });
    const later = ctx.api.at(T + 1000);
    status(await later.call("task.suspend", { id, version: 1, actions: callbacks(id, [`${id}.0`]) }), 409, "suspend after the deadline");
    status(await later.call("task.fulfill", { id, version: 1, action: action("promise.settle", { id, state: "resolved" }) }), 409, "fulfill after the deadline");
    matches(status(await later.call("promise.get", { id }), 200, "promise.get").promise, { state: "rejected_timedout", settledAt: T + 1000 }, "promise");
    matches(status(await later.call("task.get", { id }), 200, "task.get").task, { state: "fulfilled" }, "task");
  }),
];
