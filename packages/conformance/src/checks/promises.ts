// Promises over the wall clock (spec §6.1, §15.3): create, idempotency, validation, settle, lazy
// timeouts, search. Every id is in the run's namespace and times out a few minutes after the run.
import type { Check } from "../check.js";
import { equal, matches, ok, sleep, status } from "../expect.js";
import { create, getPromise, soon } from "./common.js";

export const promiseChecks: Check[] = [
  {
    name: "promises: get of an unknown id → 404",
    spec: "§15.3 #17",
    async run({ api, id }) {
      status(await api.call("promise.get", { id: id("unknown") }), 404, "promise.get");
    },
  },
  {
    name: "promises: create → pending record with empty param/value, no settledAt, no task",
    spec: "§15.3 #18",
    async run({ api, id }) {
      const pid = id("create");
      const timeoutAt = soon();
      const before = Date.now();
      const p = await create(api, { id: pid, timeoutAt });
      matches(p, { id: pid, state: "pending", param: {}, value: {}, tags: {}, timeoutAt, settledAt: undefined }, "created record");
      ok(typeof p.createdAt === "number" && Math.abs(p.createdAt - before) < 60_000, `createdAt should be about now, got ${p.createdAt}`);
      equal(await getPromise(api, pid), p, "promise.get returns the created record");
      status(await api.call("task.get", { id: pid }), 404, "task.get of a promise without target");
    },
  },
  {
    name: "promises: presence of param.data / param.headers is preserved, nothing is null",
    spec: "§15.3 #19, §3.1",
    async run({ api, id }) {
      const a = await create(api, { id: id("param-data"), timeoutAt: soon(), param: { data: "YQ==" } });
      equal(a.param, { data: "YQ==" }, "param with data only");
      const b = await create(api, { id: id("param-headers"), timeoutAt: soon(), param: { headers: {} } });
      equal(b.param, { headers: {} }, "param with headers only");
    },
  },
  {
    name: "promises: re-create with other timeoutAt/param/tags → 200 and the original record",
    spec: "§15.3 #20",
    async run({ api, id }) {
      const pid = id("recreate");
      const first = await create(api, { id: pid, timeoutAt: soon(), param: { data: "eA==" }, tags: { a: "1" } });
      const again = await create(api, { id: pid, timeoutAt: soon(9), param: { data: "eQ==" }, tags: { b: "2" } });
      equal(again, first, "second create");
    },
  },
  {
    name: "promises: created already expired → rejected_timedout (timer tag: resolved)",
    spec: "§15.3 #21–22",
    async run({ api, id }) {
      const expired = await create(api, { id: id("expired"), timeoutAt: 1000 });
      matches(expired, { state: "rejected_timedout", createdAt: 1000, settledAt: 1000, value: {} }, "expired promise");
      const timer = await create(api, { id: id("expired-timer"), timeoutAt: 1000, tags: { "resonate:timer": "true" } });
      matches(timer, { state: "resolved", settledAt: 1000, value: {} }, "expired timer");
      const notTimer = await create(api, { id: id("expired-TIMER"), timeoutAt: 1000, tags: { "resonate:timer": "TRUE" } });
      equal(notTimer.state, "rejected_timedout", "resonate:timer 'TRUE' is not a timer");
    },
  },
  {
    name: "promises: invalid create data → 400",
    spec: "§15.3 #23",
    async run({ api, id }) {
      const t = soon();
      const cases: Array<[string, Record<string, unknown>]> = [
        ["empty id", { id: "", timeoutAt: t }],
        ["id with NUL", { id: `${id("nul")}\u0000x`, timeoutAt: t }],
        ["timeoutAt -1", { id: id("bad"), timeoutAt: -1 }],
        ['timeoutAt "5"', { id: id("bad"), timeoutAt: "5" }],
        ["timeoutAt 1.5", { id: id("bad"), timeoutAt: 1.5 }],
        ["no timeoutAt", { id: id("bad") }],
        ["tag value not a string", { id: id("bad"), timeoutAt: t, tags: { k: 1 } }],
        ["param.data not a string", { id: id("bad"), timeoutAt: t, param: { data: 5 } }],
      ];
      for (const [label, data] of cases) status(await api.call("promise.create", data), 400, `promise.create with ${label}`);
    },
  },
  {
    name: "promises: resonate:target must be a valid address",
    spec: "§15.3 #24, §4.4",
    async run({ api, id }) {
      for (const target of ["workers", "ftp://h/x", "poll://bob@workers"]) {
        status(await api.call("promise.create", { id: id("target"), timeoutAt: soon(), tags: { "resonate:target": target } }), 400, `target '${target}'`);
      }
      // Created already expired: the address is validated, but nothing is ever sent to it.
      for (const target of ["poll://any@conf-nobody", "poll://uni@conf-nobody/c1", "http://127.0.0.1:9/hook"]) {
        const p = await create(api, { id: id("target"), timeoutAt: 1000, tags: { "resonate:target": target } });
        equal(p.tags["resonate:target"], target, `target '${target}' stored`);
      }
    },
  },
  {
    name: "promises: settle → state, value and settledAt; settling again changes nothing",
    spec: "§15.3 #27–28",
    async run({ api, id }) {
      const pid = id("settle");
      await create(api, { id: pid, timeoutAt: soon() });
      const value = { headers: { h: "1" }, data: "eA==" };
      const settled = status(await api.call("promise.settle", { id: pid, state: "resolved", value }), 200, "settle").promise;
      matches(settled, { id: pid, state: "resolved", value }, "settled record");
      ok(typeof settled.settledAt === "number", "settledAt is set");
      const again = status(await api.call("promise.settle", { id: pid, state: "rejected", value: { data: "eQ==" } }), 200, "second settle").promise;
      equal(again, settled, "record after a second settle");
    },
  },
  {
    name: "promises: settle of an unknown id → 404, invalid states → 400, no value → {}",
    spec: "§15.3 #29",
    async run({ api, id }) {
      status(await api.call("promise.settle", { id: id("nope"), state: "resolved" }), 404, "settle unknown");
      const pid = id("settle-states");
      await create(api, { id: pid, timeoutAt: soon() });
      for (const state of ["rejected_timedout", "pending"]) status(await api.call("promise.settle", { id: pid, state }), 400, `settle with state ${state}`);
      const p = status(await api.call("promise.settle", { id: pid, state: "rejected_canceled" }), 200, "settle without value").promise;
      matches(p, { state: "rejected_canceled", value: {} }, "settled without value");
    },
  },
  {
    name: "promises: a read after the deadline sees rejected_timedout at timeoutAt",
    spec: "§15.3 #30, §5.4",
    async run({ api, id }) {
      // The deadline is set on the server's clock (read off a fresh record), not on ours.
      const serverNow = (await create(api, { id: id("clock"), timeoutAt: soon() })).createdAt as number;
      const pid = id("lazy");
      const timeoutAt = serverNow + 300;
      await create(api, { id: pid, timeoutAt });
      await sleep(400);
      matches(await getPromise(api, pid), { state: "rejected_timedout", settledAt: timeoutAt, value: {} }, "promise after its deadline");
      // A late settle answers 200 with the timed-out record (§6.1.3).
      matches(status(await api.call("promise.settle", { id: pid, state: "resolved" }), 200, "late settle").promise, { state: "rejected_timedout" }, "late settle");
    },
  },
  {
    name: "promises: search by tag, with limit and cursor",
    spec: "§15.4 #42–44, #46",
    async run({ api, id, runId }) {
      const tag = { "conformance-run": `${runId}-search` };
      const ids = [id("search-a"), id("search-b"), id("search-c")].sort();
      for (const pid of ids) await create(api, { id: pid, timeoutAt: soon(), tags: { ...tag, other: "x" } });
      const all = status(await api.call("promise.search", { tags: tag }), 200, "search by tag");
      equal(all.promises.map((p: { id: string }) => p.id), ids, "ids found by tag, sorted");
      ok(!("cursor" in all), `no cursor on the last page, got ${JSON.stringify(all.cursor)}`);
      const page1 = status(await api.call("promise.search", { tags: tag, limit: 2 }), 200, "search limit 2");
      equal(page1.promises.map((p: { id: string }) => p.id), ids.slice(0, 2), "first page");
      ok(typeof page1.cursor === "string", "a cursor on a full page");
      const page2 = status(await api.call("promise.search", { tags: tag, limit: 2, cursor: page1.cursor }), 200, "search next page");
      equal(page2.promises.map((p: { id: string }) => p.id), ids.slice(2), "second page");
      status(await api.call("promise.search", { limit: 0 }), 400, "limit 0");
      status(await api.call("promise.search", { limit: 1001 }), 400, "limit 1001");
    },
  },
];
