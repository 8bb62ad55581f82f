// Tasks over the wall clock (spec §5.2, §6.2, §15.5–15.9): the claim/lease/fencing rules a worker
// relies on. Targets point at a group nobody listens to, so the kit plays the worker itself.
import type { Check } from "../check.js";
import { equal, eventually, matches, ok, status } from "../expect.js";
import { acquire, action, callbacks, create, createTask, getPromise, getTask, nobody, soon } from "./common.js";

export const taskChecks: Check[] = [
  {
    name: "tasks: a promise with a target has a pending task at version 0",
    spec: "§15.3 #25",
    async run(ctx) {
      const id = await createTask(ctx, ctx.api, "t");
      const task = await getTask(ctx.api, id);
      matches(task, { id, state: "pending", version: 0, resumes: 0, ttl: undefined, pid: undefined }, "task record");
    },
  },
  {
    name: "tasks: acquire → acquired v1 with ttl/pid, promise and preload; conflicts 409, unknown 404, bad input 400",
    spec: "§15.6 #57–58",
    async run(ctx) {
      const { api } = ctx;
      const id = await createTask(ctx, api, "acq");
      const r = await acquire(api, id, 0, "conf-w1", 30_000);
      matches(r.task, { id, state: "acquired", version: 1, resumes: 0, ttl: 30_000, pid: "conf-w1" }, "acquired task");
      matches(r.promise, { id, state: "pending" }, "acquire returns the promise");
      ok(Array.isArray(r.preload), "acquire returns a preload array");
      status(await api.call("task.acquire", { id, version: 0, pid: "conf-w2", ttl: 30_000 }), 409, "acquire an acquired task");
      const other = await createTask(ctx, api, "acq-2");
      status(await api.call("task.acquire", { id: other, version: 3, pid: "conf-w2", ttl: 30_000 }), 409, "acquire with a wrong version");
      status(await api.call("task.acquire", { id: ctx.id("nope"), version: 0, pid: "conf-w2", ttl: 30_000 }), 404, "acquire an unknown task");
      status(await api.call("task.acquire", { id: other, version: -1, pid: "conf-w2", ttl: 30_000 }), 400, "version -1");
      status(await api.call("task.acquire", { id: other, version: 0, pid: "conf-w2", ttl: 0 }), 400, "ttl 0");
      status(await api.call("task.acquire", { id: other, version: 0, pid: "", ttl: 1000 }), 400, "pid ''");
    },
  },
  {
    name: "tasks: release → pending at the same version; again 409; acquire bumps to v2",
    spec: "§15.6 #59–61",
    async run(ctx) {
      const { api } = ctx;
      const id = await createTask(ctx, api, "rel");
      await acquire(api, id, 0);
      status(await api.call("task.release", { id, version: 0 }), 409, "release with a wrong version");
      equal(status(await api.call("task.release", { id, version: 1 }), 200, "release"), {}, "release answer");
      matches(await getTask(api, id), { state: "pending", version: 1, ttl: undefined, pid: undefined }, "released task");
      status(await api.call("task.release", { id, version: 1 }), 409, "release again");
      status(await api.call("task.release", { id: ctx.id("nope"), version: 1 }), 404, "release unknown");
      equal((await acquire(api, id, 1)).task.version, 2, "version after re-acquire");
    },
  },
  {
    name: "tasks: fulfill settles the promise; wrong version, twice, wrong id or state are refused",
    spec: "§15.8 #80–81, #83",
    async run(ctx) {
      const { api } = ctx;
      const id = await createTask(ctx, api, "ful");
      await acquire(api, id, 0);
      const settle = (state: string, pid = id) => action("promise.settle", { id: pid, state, value: { data: "ODQ=" } });
      status(await api.call("task.fulfill", { id, version: 1, action: settle("resolved", ctx.id("other")) }), 400, "action id ≠ task id");
      status(await api.call("task.fulfill", { id, version: 1, action: settle("rejected_timedout") }), 400, "state rejected_timedout");
      status(await api.call("task.fulfill", { id, version: 2, action: settle("resolved") }), 409, "wrong version");
      const r = status(await api.call("task.fulfill", { id, version: 1, action: settle("rejected") }), 200, "fulfill");
      matches(r.promise, { id, state: "rejected", value: { data: "ODQ=" } }, "fulfilled promise");
      matches(await getTask(api, id), { state: "fulfilled", ttl: undefined, pid: undefined }, "task after fulfill");
      status(await api.call("task.fulfill", { id, version: 1, action: settle("resolved") }), 409, "second fulfill");
      status(await api.call("task.fulfill", { id: ctx.id("nope"), version: 1, action: settle("resolved", "x") }), 400, "fulfill with mismatched ids");
    },
  },
  {
    name: "tasks: task.create → acquired v1 (no execute needed); again 409; plain promise 422; settled → fulfilled",
    spec: "§15.5 #49–55",
    async run(ctx) {
      const { api } = ctx;
      const id = ctx.id("tc");
      const target = { "resonate:target": `poll://any@conf-${ctx.runId}-client/c1` };
      const mk = (pid: string, data: Record<string, unknown>, ttl = 60_000) => ({ pid, ttl, action: action("promise.create", data) });
      const r = status(await api.call("task.create", mk("c1", { id, timeoutAt: soon(), tags: target })), 200, "task.create");
      matches(r.task, { id, state: "acquired", version: 1, resumes: 0, ttl: 60_000, pid: "c1" }, "created task");
      matches(r.promise, { id, state: "pending" }, "created promise");
      equal(r.preload, [], "preload");
      status(await api.call("task.create", mk("c2", { id, timeoutAt: soon(), tags: target })), 409, "task.create of an acquired task");

      const plain = ctx.id("tc-plain");
      await create(api, { id: plain, timeoutAt: soon() });
      status(await api.call("task.create", mk("c1", { id: plain, timeoutAt: soon(), tags: target })), 422, "task.create on a promise without target");

      const existing = await createTask(ctx, api, "tc-pending");
      matches(status(await api.call("task.create", mk("c3", { id: existing, timeoutAt: soon(), tags: target }, 30_000)), 200, "task.create of a pending task").task, { state: "acquired", version: 1, pid: "c3" }, "pending task taken by task.create");

      const done = await createTask(ctx, api, "tc-done");
      await api.call("promise.settle", { id: done, state: "resolved" });
      const f = status(await api.call("task.create", mk("c1", { id: done, timeoutAt: soon(), tags: target })), 200, "task.create of a fulfilled task");
      matches(f.task, { state: "fulfilled", ttl: undefined, pid: undefined }, "fulfilled task");
      matches(f.promise, { state: "resolved" }, "its promise");

      const late = status(await api.call("task.create", mk("c1", { id: ctx.id("tc-late"), timeoutAt: 1000, tags: target })), 200, "task.create already expired");
      matches(late.task, { state: "fulfilled", version: 0 }, "expired task.create");
      equal(late.promise.state, "rejected_timedout", "expired promise");

      status(await api.call("task.create", mk("c1", { id: ctx.id("tc-bad"), timeoutAt: soon() })), 400, "action without target");
      status(await api.call("task.create", mk("c1", { id: ctx.id("tc-bad"), timeoutAt: soon(), tags: target }, 0)), 400, "ttl 0");
      status(await api.call("task.create", mk("", { id: ctx.id("tc-bad"), timeoutAt: soon(), tags: target })), 400, "pid ''");
    },
  },
  {
    name: "tasks: preload returns the branch siblings, sorted, without the task itself",
    spec: "§15.5 #56",
    async run(ctx) {
      const { api } = ctx;
      const root = ctx.id("branch");
      await create(api, { id: root, timeoutAt: soon(), tags: { "resonate:branch": root, "resonate:target": nobody(ctx) } });
      for (const [suffix, branch] of [
        [".1", root],
        [".0", root],
        [".2", `${root}.2`],
      ]) {
        await create(api, { id: root + suffix, timeoutAt: soon(), tags: { "resonate:branch": branch! } });
      }
      const r = await acquire(api, root, 0);
      equal(r.preload.map((p: { id: string }) => p.id), [`${root}.0`, `${root}.1`], "preload ids");
    },
  },
  {
    name: "suspend: on pending promises → suspended; a settlement resumes it (pending, resumes counted)",
    spec: "§15.7 #68–70",
    async run(ctx) {
      const { api } = ctx;
      const r = await createTask(ctx, api, "susp");
      const a = `${r}.0`;
      const b = `${r}.1`;
      for (const c of [a, b]) await create(api, { id: c, timeoutAt: soon() });
      await acquire(api, r, 0);
      equal(status(await api.call("task.suspend", { id: r, version: 1, actions: callbacks(r, [a, b]) }), 200, "suspend"), {}, "suspend answer");
      matches(await getTask(api, r), { state: "suspended", version: 1, ttl: undefined, pid: undefined }, "suspended task");
      await api.call("promise.settle", { id: a, state: "resolved" });
      matches(await getTask(api, r), { state: "pending", version: 1, resumes: 1 }, "task after the first settlement");
      await api.call("promise.settle", { id: b, state: "resolved" });
      matches(await getTask(api, r), { state: "pending", version: 1, resumes: 2 }, "task after the second settlement");
      matches((await acquire(api, r, 1)).task, { state: "acquired", version: 2, resumes: 0 }, "re-acquired task");
    },
  },
  {
    name: "suspend: an awaited promise already settled → HTTP 300 with preload, task stays acquired",
    spec: "§15.7 #71, §15.2 #15",
    async run(ctx) {
      const { api } = ctx;
      const r = await createTask(ctx, api, "susp300");
      await create(api, { id: `${r}.0`, timeoutAt: soon() });
      await create(api, { id: `${r}.1`, timeoutAt: soon() });
      await api.call("promise.settle", { id: `${r}.0`, state: "resolved" });
      await acquire(api, r, 0);
      const res = await api.call("task.suspend", { id: r, version: 1, actions: callbacks(r, [`${r}.0`, `${r}.1`]) });
      const data = status(res, 300, "suspend with a settled awaited promise");
      ok(Array.isArray(data.preload), `300 data must carry a preload array, got ${JSON.stringify(data)}`);
      equal(res.headers.get("location"), null, "Location header");
      matches(await getTask(api, r), { state: "acquired", version: 1 }, "task after the 300");
    },
  },
  {
    name: "suspend: 422 missing awaited (string data), 400 bad actions, 409 stale, 404 unknown",
    spec: "§15.7 #72–74",
    async run(ctx) {
      const { api } = ctx;
      const r = await createTask(ctx, api, "susp-err");
      await create(api, { id: `${r}.0`, timeoutAt: soon() });
      status(await api.call("task.suspend", { id: r, version: 0, actions: callbacks(r, [`${r}.0`]) }), 409, "suspend a pending task");
      await acquire(api, r, 0);
      const missing = await api.call("task.suspend", { id: r, version: 1, actions: callbacks(r, [`${r}.9`]) });
      status(missing, 422, "suspend on a missing promise");
      ok(typeof missing.data === "string", `422 data must be a string, got ${JSON.stringify(missing.data)}`);
      status(await api.call("task.suspend", { id: r, version: 1, actions: [] }), 400, "no actions");
      status(await api.call("task.suspend", { id: r, version: 1, actions: callbacks(ctx.id("other"), [`${r}.0`]) }), 400, "awaiter ≠ task");
      status(await api.call("task.suspend", { id: r, version: 1, actions: callbacks(r, [r]) }), 400, "awaiting itself");
      status(await api.call("task.suspend", { id: r, version: 2, actions: callbacks(r, [`${r}.0`]) }), 409, "wrong version");
      const unknown = ctx.id("nope");
      status(await api.call("task.suspend", { id: unknown, version: 1, actions: callbacks(unknown, [`${r}.0`]) }), 404, "unknown task");
    },
  },
  {
    name: "fence: create a child under the lease (inner envelope, outer corrId), idempotent; settle of a missing id → inner 404",
    spec: "§15.8 #84–86",
    async run(ctx) {
      const { api } = ctx;
      const r = await createTask(ctx, api, "fence");
      await acquire(api, r, 0);
      const child = `${r}.0`;
      const inner = action("promise.create", { id: child, timeoutAt: soon(), tags: { "resonate:target": nobody(ctx) } });
      const res = status(await api.call("task.fence", { id: r, version: 1, action: inner }, { corrId: "outer" }), 200, "fenced create");
      matches(res.action, { kind: "promise.create" }, "inner response");
      matches(res.action.head, { corrId: "outer", status: 200, version: "2026-04-01" }, "inner head");
      matches(res.action.data.promise, { id: child, state: "pending" }, "inner promise");
      ok(Array.isArray(res.preload), "fence returns a preload array");
      matches(await getTask(api, child), { state: "pending", version: 0 }, "the child's task");
      const again = status(await api.call("task.fence", { id: r, version: 1, action: inner }), 200, "same fenced create");
      equal(again.action.data.promise, res.action.data.promise, "idempotent fenced create");
      const settled = status(await api.call("task.fence", { id: r, version: 1, action: action("promise.settle", { id: child, state: "resolved" }) }), 200, "fenced settle");
      matches(settled.action.data.promise, { id: child, state: "resolved" }, "fenced settle result");
      const gone = status(await api.call("task.fence", { id: r, version: 1, action: action("promise.settle", { id: ctx.id("nope"), state: "resolved" }) }), 200, "fenced settle of a missing id");
      matches(gone.action.head, { status: 404 }, "inner status of a missing settle");
    },
  },
  {
    name: "fence: 409 wrong version, 404 unknown task, 400 bad kind / own id / bad inner data",
    spec: "§15.8 #87",
    async run(ctx) {
      const { api } = ctx;
      const r = await createTask(ctx, api, "fence-err");
      await acquire(api, r, 0);
      const mk = (data: Record<string, unknown>, kind = "promise.create") => action(kind, data);
      const child = { id: `${r}.0`, timeoutAt: soon() };
      status(await api.call("task.fence", { id: r, version: 2, action: mk(child) }), 409, "wrong version");
      status(await api.call("task.fence", { id: ctx.id("nope"), version: 1, action: mk(child) }), 404, "unknown task");
      status(await api.call("task.fence", { id: r, version: 1, action: mk({ id: `${r}.0` }, "promise.get") }), 400, "kind promise.get");
      status(await api.call("task.fence", { id: r, version: 1, action: mk({ id: r, timeoutAt: soon() }) }), 400, "action id = task id");
      status(await api.call("task.fence", { id: r, version: 1, action: mk({ id: `${r}.1` }) }), 400, "inner create without timeoutAt");
      status(await api.call("task.fence", { id: r, version: 1, action: mk({ ...child, tags: { "resonate:target": "workers" } }) }), 400, "inner create with target 'workers'");
    },
  },
  {
    name: "heartbeat: always 200 {}; an empty task list is accepted; pid '' → 400",
    spec: "§15.6 #64–65, C2",
    async run(ctx) {
      const { api } = ctx;
      const id = await createTask(ctx, api, "hb");
      await acquire(api, id, 0, "conf-hb");
      equal(status(await api.call("task.heartbeat", { pid: "conf-hb", tasks: [{ id, version: 1 }] }), 200, "heartbeat"), {}, "heartbeat answer");
      status(await api.call("task.heartbeat", { pid: "conf-other", tasks: [{ id, version: 1 }, { id: ctx.id("nope"), version: 0 }] }), 200, "heartbeat of another pid / unknown task");
      status(await api.call("task.heartbeat", { pid: "conf-hb", tasks: [] }), 200, "heartbeat with tasks: []");
      status(await api.call("task.heartbeat", { pid: "", tasks: [] }), 400, "heartbeat with pid ''");
    },
  },
  {
    name: "fencing: after the lease lapses and another worker acquires, the old holder's writes get 409",
    spec: "§15.6 #62, #67",
    async run(ctx) {
      const { api } = ctx;
      const id = await createTask(ctx, api, "lease");
      await api.call("promise.create", { id: `${id}.0`, timeoutAt: soon() });
      await acquire(api, id, 0, "conf-old", 1000);
      // Lease expiry is the background loop's job (§8.1): allow its period on top of the ttl.
      const t0 = Date.now();
      await eventually(async () => ((await getTask(api, id)).state === "pending" ? true : undefined), 10_000, "the 1 s lease of the old holder lapsing");
      ctx.note(`lease of 1000 ms lapsed after ${Date.now() - t0} ms`);
      matches((await acquire(api, id, 1, "conf-new")).task, { version: 2, pid: "conf-new" }, "new holder");
      const settle = action("promise.settle", { id, state: "resolved" });
      status(await api.call("task.fulfill", { id, version: 1, action: settle }), 409, "old holder's fulfill");
      status(await api.call("task.fence", { id, version: 1, action: action("promise.create", { id: `${id}.1`, timeoutAt: soon() }) }), 409, "old holder's fence");
      status(await api.call("task.suspend", { id, version: 1, actions: callbacks(id, [`${id}.0`]) }), 409, "old holder's suspend");
      status(await api.call("task.release", { id, version: 1 }), 409, "old holder's release");
      status(await api.call("task.heartbeat", { pid: "conf-old", tasks: [{ id, version: 1 }] }), 200, "old holder's heartbeat");
      matches(await getTask(api, id), { state: "acquired", version: 2, pid: "conf-new" }, "task still held by the new holder");
    },
  },
  {
    name: "halt/continue: halted tasks stop; continue → pending at the same version; 409s and 404s",
    spec: "§15.9 #89–92",
    async run(ctx) {
      const { api } = ctx;
      const id = await createTask(ctx, api, "halt");
      await acquire(api, id, 0);
      equal(status(await api.call("task.halt", { id }), 200, "halt an acquired task"), {}, "halt answer");
      matches(await getTask(api, id), { state: "halted", version: 1 }, "halted task");
      status(await api.call("task.fulfill", { id, version: 1, action: action("promise.settle", { id, state: "resolved" }) }), 409, "holder's fulfill after halt");
      status(await api.call("task.halt", { id }), 200, "halt a halted task");
      equal(status(await api.call("task.continue", { id }), 200, "continue"), {}, "continue answer");
      matches(await getTask(api, id), { state: "pending", version: 1 }, "continued task");
      status(await api.call("task.continue", { id }), 409, "continue a pending task");
      await api.call("promise.settle", { id, state: "resolved" });
      status(await api.call("task.halt", { id }), 409, "halt a fulfilled task");
      status(await api.call("task.halt", { id: ctx.id("nope") }), 404, "halt unknown");
      status(await api.call("task.continue", { id: ctx.id("nope") }), 404, "continue unknown");
    },
  },
  {
    name: "tasks: settling the promise of an acquired task fulfils it; the holder's next fenced call gets 409",
    spec: "§6.1.3, §15.15 #136",
    async run(ctx) {
      const { api } = ctx;
      const id = await createTask(ctx, api, "cancel");
      await acquire(api, id, 0);
      await api.call("promise.settle", { id, state: "rejected_canceled" });
      equal((await getTask(api, id)).state, "fulfilled", "task after the external settle");
      status(await api.call("task.fence", { id, version: 1, action: action("promise.create", { id: `${id}.0`, timeoutAt: soon() }) }), 409, "fenced create after cancel");
      equal((await getPromise(api, id)).state, "rejected_canceled", "promise state");
    },
  },
];
