// Schedules over the wall clock (spec §6.3, §15.11): create/get/delete, idempotency, validation,
// search. Firing is checked in debug mode (debug-time.ts) and with the SDK (sdk suite).
import type { Check } from "../check.js";
import { equal, matches, ok, status } from "../expect.js";
import { nobody } from "./common.js";

export const scheduleChecks: Check[] = [
  {
    name: "schedules: create → record with nextRunAt after now, no lastRunAt; re-create returns it unchanged; delete",
    spec: "§15.11 #97–98, #104",
    async run(ctx) {
      const { api } = ctx;
      const id = ctx.id("sched");
      const before = Date.now();
      const data = { id, cron: "0 0 1 1 *", promiseId: "{{.id}}.{{.timestamp}}", promiseTimeout: 60_000, promiseParam: {}, promiseTags: { "resonate:target": nobody(ctx) } };
      const s = status(await api.call("schedule.create", data), 200, "schedule.create").schedule;
      try {
        matches(s, { id, cron: "0 0 1 1 *", promiseId: "{{.id}}.{{.timestamp}}", promiseTimeout: 60_000, lastRunAt: undefined }, "schedule record");
        ok(s.nextRunAt > before && s.nextRunAt <= before + 366 * 86_400_000, `nextRunAt must be the next 1 January 00:00 UTC, got ${s.nextRunAt}`);
        equal(new Date(s.nextRunAt).toISOString().slice(5), "01-01T00:00:00.000Z", "nextRunAt (UTC)");
        equal(status(await api.call("schedule.get", { id }), 200, "schedule.get").schedule, s, "schedule.get");
        const again = status(await api.call("schedule.create", { ...data, cron: "*/5 * * * *" }), 200, "re-create with another cron").schedule;
        equal(again, s, "re-created schedule");
      } finally {
        equal(status(await api.call("schedule.delete", { id }), 200, "schedule.delete"), {}, "delete answer");
      }
      status(await api.call("schedule.get", { id }), 404, "schedule.get after delete");
      status(await api.call("schedule.delete", { id }), 404, "delete again");
    },
  },
  {
    name: "schedules: invalid cron, no target tag, negative timeout, empty ids → 400; a dotted id is accepted",
    spec: "§15.11 #99, C4",
    async run(ctx) {
      const { api } = ctx;
      const base = { id: ctx.id("sched-bad"), cron: "0 0 1 1 *", promiseId: "{{.id}}.{{.timestamp}}", promiseTimeout: 60_000, promiseParam: {}, promiseTags: { "resonate:target": nobody(ctx) } };
      const cases: Array<[string, Record<string, unknown>]> = [
        ["cron 'not a cron'", { cron: "not a cron" }],
        ["promiseTags without target", { promiseTags: {} }],
        ["promiseTimeout -1", { promiseTimeout: -1 }],
        ["promiseId ''", { promiseId: "" }],
        ["id ''", { id: "" }],
      ];
      for (const [label, patch] of cases) status(await api.call("schedule.create", { ...base, ...patch }), 400, `schedule.create with ${label}`);
      const dotted = `${ctx.id("sched")}.v1`;
      status(await api.call("schedule.create", { ...base, id: dotted }), 200, "schedule id with a dot");
      status(await api.call("schedule.delete", { id: dotted }), 200, "delete the dotted schedule");
    },
  },
  {
    name: "schedules: search filters on promiseTags",
    spec: "§15.4 #48",
    async run(ctx) {
      const { api } = ctx;
      const tag = { "conformance-run": `${ctx.runId}-schedules` };
      const ids = [ctx.id("sched-s"), ctx.id("sched-s")].sort();
      for (const id of ids) {
        status(await api.call("schedule.create", { id, cron: "0 0 1 1 *", promiseId: "{{.id}}.{{.timestamp}}", promiseTimeout: 60_000, promiseParam: {}, promiseTags: { "resonate:target": nobody(ctx), ...tag } }), 200, "schedule.create");
      }
      try {
        const found = status(await api.call("schedule.search", { tags: tag }), 200, "schedule.search");
        equal(found.schedules.map((s: { id: string }) => s.id), ids, "schedules found by promiseTags");
      } finally {
        for (const id of ids) await api.call("schedule.delete", { id });
      }
    },
  },
];
