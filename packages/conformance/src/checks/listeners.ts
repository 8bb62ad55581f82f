// Listeners, callbacks and the SSE stream (spec §2.8, §6.1.4–5, §7, §15.3, §15.13): what a client
// waiting for a result and a worker waiting for work see on the wire.
import type { Check } from "../check.js";
import { equal, matches, ok, sleep, status } from "../expect.js";
import { PollStream } from "../sse.js";
import { create, createTask, getTask, soon } from "./common.js";

export const listenerChecks: Check[] = [
  {
    name: "sse: GET /poll/{group}/{id} → 200 text/event-stream, no-cache",
    spec: "§15.13 #111",
    async run({ api, runId }) {
      const s = await PollStream.open(api, `conf-${runId}-sse`, "c1");
      try {
        equal(s.status, 200, "HTTP status");
        ok(s.contentType.startsWith("text/event-stream"), `Content-Type must start with text/event-stream, got '${s.contentType}'`);
        ok(s.cacheControl.includes("no-cache"), `Cache-Control must be no-cache, got '${s.cacheControl}'`);
      } finally {
        s.close();
      }
    },
  },
  {
    name: "sse: a create with a poll:// target delivers one execute to the group's stream",
    spec: "§15.13 #112, §7.1",
    async run(ctx) {
      const group = `conf-${ctx.runId}-exec`;
      const s = await PollStream.open(ctx.api, group, "w1");
      try {
        equal(s.status, 200, "stream status");
        const id = ctx.id("sse-exec");
        await create(ctx.api, { id, timeoutAt: soon(), tags: { "resonate:target": `poll://any@${group}` } });
        const m = await s.waitFor((m) => m.kind === "execute" && m.data?.task?.id === id, 5000, `execute for ${id}`);
        equal(m.data, { task: { id, version: 0 } }, "execute message data");
        ok(typeof m.head === "object" && m.head !== null, "execute message has a head object");
        await sleep(300);
        const got = s.messages.filter((x) => x.data?.task?.id === id);
        equal(got.length, 1, `executes received for one create (${JSON.stringify(got)})`);
        equal(s.garbage, [], "non-JSON data lines");
      } finally {
        s.close();
      }
    },
  },
  {
    name: "listeners: register on a pending promise, settle → unblock with the settled record",
    spec: "§15.3 #34, §15.13 #115",
    async run(ctx) {
      const group = `conf-${ctx.runId}-client`;
      const c1 = await PollStream.open(ctx.api, group, "c1");
      const c2 = await PollStream.open(ctx.api, group, "c2");
      try {
        const id = ctx.id("listened");
        await create(ctx.api, { id, timeoutAt: soon() });
        const reg = status(await ctx.api.call("promise.register_listener", { awaited: id, address: c1.unicast }), 200, "register_listener");
        equal(reg.promise.state, "pending", "register_listener returns the pending promise");
        // Registering the same address twice still gives one unblock (§15.3 #35).
        status(await ctx.api.call("promise.register_listener", { awaited: id, address: c1.unicast }), 200, "register_listener again");
        await ctx.api.call("promise.settle", { id, state: "resolved", value: { data: "eA==" } });
        const m = await c1.waitFor((m) => m.kind === "unblock" && m.data?.promise?.id === id, 5000, `unblock for ${id}`);
        matches(m.data.promise, { id, state: "resolved", value: { data: "eA==" } }, "unblock carries the settled promise");
        await sleep(300);
        equal(c1.messages.filter((x) => x.data?.promise?.id === id).length, 1, "unblocks on c1");
        equal(c2.messages.filter((x) => x.data?.promise?.id === id).length, 0, "unblocks on c2 (uni address names c1 only)");
      } finally {
        c1.close();
        c2.close();
      }
    },
  },
  {
    name: "listeners: on a settled promise → 200 with the settled record; invalid address → 400; unknown → 404",
    spec: "§15.3 #36–37",
    async run({ api, id, runId }) {
      const pid = id("settled");
      await create(api, { id: pid, timeoutAt: soon() });
      await api.call("promise.settle", { id: pid, state: "rejected" });
      const r = status(await api.call("promise.register_listener", { awaited: pid, address: `poll://uni@conf-${runId}-client/c9` }), 200, "listener on a settled promise");
      equal(r.promise.state, "rejected", "returned state");
      status(await api.call("promise.register_listener", { awaited: pid, address: "client" }), 400, "address 'client'");
      status(await api.call("promise.register_listener", { awaited: pid, address: "" }), 400, "empty address");
      status(await api.call("promise.register_listener", { awaited: id("nope"), address: `poll://uni@conf-${runId}-client/c9` }), 404, "unknown promise");
    },
  },
  {
    name: "callbacks: register_callback errors (400 same ids, 404 awaited, 422 awaiter missing or without target)",
    spec: "§15.3 #39",
    async run(ctx) {
      const { api } = ctx;
      const plain = ctx.id("plain");
      await create(api, { id: plain, timeoutAt: soon() });
      const task = await createTask(ctx, api, "awaiter");
      status(await api.call("promise.register_callback", { awaited: task, awaiter: task }), 400, "awaited = awaiter");
      status(await api.call("promise.register_callback", { awaited: ctx.id("nope"), awaiter: task }), 404, "unknown awaited");
      status(await api.call("promise.register_callback", { awaited: plain, awaiter: ctx.id("nope") }), 422, "unknown awaiter");
      const other = ctx.id("plain-2");
      await create(api, { id: other, timeoutAt: soon() });
      status(await api.call("promise.register_callback", { awaited: plain, awaiter: other }), 422, "awaiter without target");
    },
  },
  {
    name: "callbacks: settling the awaited promise of a pending task counts one resume",
    spec: "§15.3 #40",
    async run(ctx) {
      const { api } = ctx;
      const awaited = ctx.id("awaited");
      await create(api, { id: awaited, timeoutAt: soon() });
      const task = await createTask(ctx, api, "cb-task");
      const r = status(await api.call("promise.register_callback", { awaited, awaiter: task }), 200, "register_callback");
      equal(r.promise.id, awaited, "register_callback returns the awaited promise");
      await api.call("promise.settle", { id: awaited, state: "resolved" });
      matches(await getTask(api, task), { state: "pending", version: 0, resumes: 1 }, "task after the settlement");
    },
  },
];
