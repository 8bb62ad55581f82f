// Strict mode (spec §13 C1–C4): the reference's latest-revision rules behind --strict. Every rule
// is checked twice: the 400 (or the behaviour) in strict mode, and the same request accepted by a
// default server, since the defaults exist because ordinary SDK traffic breaks these rules.
// Deterministic: loops paused, time fixed per request. Runs on PostgreSQL too (server-pg).

import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  T,
  W,
  callbackAction,
  createAction,
  createData,
  freshState,
  promiseOf,
  startTestServer,
  type TestServer,
} from "./helpers";
import { stopTestPostgres, testStore } from "./support/postgres";

let strict: TestServer;
let lenient: TestServer;

beforeAll(async () => {
  // A long timeout interval: the wall clock is far past T and a background pass would expire everything.
  strict = await startTestServer({ strict: true, timeoutsInterval: 3_600_000 });
  lenient = await startTestServer({ timeoutsInterval: 3_600_000 });
});
afterAll(async () => {
  await strict?.close();
  await lenient?.close();
  if (testStore() === "postgres") await stopTestPostgres();
});
beforeEach(async () => {
  await freshState(strict);
  await freshState(lenient);
});

/** Sends the same request to both servers (each at time T). */
async function both(kind: string, data: unknown) {
  const [s, l] = await Promise.all([strict.callAt(T, kind, data), lenient.callAt(T, kind, data)]);
  return { strict: s, lenient: l };
}

/** The request must be refused with `message` in strict mode and answered `lenientStatus` by default. */
async function refusedOnlyInStrict(kind: string, data: unknown, message: string, lenientStatus = 200) {
  const res = await both(kind, data);
  expect(res.strict.status, res.strict.text).toBe(400);
  expect(res.strict.httpStatus).toBe(400);
  expect(res.strict.data).toBe(message);
  expect(res.lenient.status, res.lenient.text).toBe(lenientStatus);
}

/** Creates a promise with a target on both servers and acquires its task (version 1). */
async function acquiredOnBoth(id: string) {
  for (const ts of [strict, lenient]) {
    expect((await ts.callAt(T, "promise.create", createData(id, T + 60_000, { "resonate:target": W }))).status).toBe(200);
    expect((await ts.callAt(T, "task.acquire", { id, version: 0, pid: "w1", ttl: 60_000 })).status).toBe(200);
  }
}

async function pendingOnBoth(id: string, tags: Record<string, string> = {}) {
  for (const ts of [strict, lenient]) {
    expect((await ts.callAt(T, "promise.create", createData(id, T + 60_000, tags))).status).toBe(200);
  }
}

// The lineage cases: [what, id, tags, message]. Realistic ids: SDK 0.11.5 names children `root:n`.
const LINEAGE: [string, string, Record<string, string>, string][] = [
  ["origin containing a dot", "a.b.1", { "resonate:origin": "a.b" }, "resonate:origin must not contain '.'"],
  ["id not extending its origin (an SDK 0.11.5 child)", "root:1", { "resonate:origin": "root" }, "Promise ID must be prefixed by resonate:origin"],
  ["id not extending its branch", "a.1", { "resonate:origin": "a", "resonate:branch": "b" }, "Promise ID must be prefixed by resonate:branch"],
  ["id not extending its parent (an explicit-id child)", "a.1", { "resonate:origin": "a", "resonate:branch": "a", "resonate:parent": "caller" }, "Promise ID must be prefixed by resonate:parent"],
  ["prefix containing a dot", "a.1", { "resonate:origin": "a", "resonate:prefix": "a.x" }, "resonate:prefix must not contain '.'"],
];

describe("strict C3: lineage checks on promise.create", () => {
  for (const [what, id, tags, message] of LINEAGE) {
    it(`${what} → 400 "${message}" (default: 200)`, async () => {
      await refusedOnlyInStrict("promise.create", createData(id, T + 60_000, tags), message);
    });
  }

  it("the rules apply in the reference's order: a dotted origin is reported before a foreign parent", async () => {
    const tags = { "resonate:origin": "a.b", "resonate:parent": "x" };
    await refusedOnlyInStrict("promise.create", createData("a.b.1", T + 60_000, tags), "resonate:origin must not contain '.'");
  });

  it("lineage that fits the id, or no lineage tags at all, is accepted in strict mode", async () => {
    const tags = { "resonate:origin": "a", "resonate:branch": "a", "resonate:parent": "a", "resonate:prefix": "a" };
    expect((await strict.callAt(T, "promise.create", createData("a", T + 60_000, tags))).status).toBe(200);
    expect((await strict.callAt(T, "promise.create", createData("a.1", T + 60_000, tags))).status).toBe(200);
    expect((await strict.callAt(T, "promise.create", createData("a.1.2", T + 60_000, { ...tags, "resonate:branch": "a.1" }))).status).toBe(200);
    expect((await strict.callAt(T, "promise.create", createData("plain.id", T + 60_000))).status).toBe(200);
  });

  it("an existing id does not skip the check (validation comes before the lookup)", async () => {
    await pendingOnBoth("root:1");
    await refusedOnlyInStrict("promise.create", createData("root:1", T + 60_000, { "resonate:origin": "root" }), "Promise ID must be prefixed by resonate:origin");
  });

  it("inside task.create → 400 (default: 200, acquired)", async () => {
    const data = { pid: "c1", ttl: 60_000, action: createAction("root:1", T + 60_000, { "resonate:target": W, "resonate:origin": "root" }) };
    await refusedOnlyInStrict("task.create", data, "Promise ID must be prefixed by resonate:origin");
    expect((await strict.callAt(T, "promise.get", { id: "root:1" })).status).toBe(404);
  });

  it("inside a fenced create → 400 for the whole fence (default: 200, inner 200)", async () => {
    await acquiredOnBoth("job");
    const data = { id: "job", version: 1, action: createAction("job.1", T + 60_000, { "resonate:origin": "job", "resonate:parent": "caller" }) };
    const res = await both("task.fence", data);
    expect(res.strict.status).toBe(400);
    expect(res.strict.data).toBe("Promise ID must be prefixed by resonate:parent");
    expect(res.lenient.status).toBe(200);
    expect(res.lenient.data.action.head.status).toBe(200);
    expect(promiseOf(await strict.snap(), "job.1")).toBeUndefined();
  });
});

describe("strict C3: same-origin checks", () => {
  it("promise.register_callback across origins → 400 (default: 200); within one origin → 200", async () => {
    await pendingOnBoth("other");
    await pendingOnBoth("job", { "resonate:target": W });
    await pendingOnBoth("job.1");
    await refusedOnlyInStrict("promise.register_callback", { awaited: "other", awaiter: "job" }, "Awaiter and awaited must belong to the same origin");
    expect((await strict.callAt(T, "promise.register_callback", { awaited: "job.1", awaiter: "job" })).status).toBe(200);
  });

  it("the origin check comes before the lookups: missing promises of two origins → 400, not 404", async () => {
    await refusedOnlyInStrict("promise.register_callback", { awaited: "x", awaiter: "y" }, "Awaiter and awaited must belong to the same origin", 404);
  });

  it("task.suspend awaiting another origin → 400 (default: 200, suspended); its own origin → 200", async () => {
    await acquiredOnBoth("job");
    await pendingOnBoth("other");
    await pendingOnBoth("job.1");
    const data = { id: "job", version: 1, actions: [callbackAction("job.1", "job"), callbackAction("other", "job")] };
    await refusedOnlyInStrict("task.suspend", data, "Awaited promise must belong to the same origin as the task");
    const ok = await strict.callAt(T, "task.suspend", { id: "job", version: 1, actions: [callbackAction("job.1", "job")] });
    expect(ok.status, ok.text).toBe(200);
  });

  it("task.heartbeat naming tasks of several origins → 400 (default: 200); one origin → 200", async () => {
    await acquiredOnBoth("a");
    await acquiredOnBoth("b");
    const mixed = { pid: "w1", tasks: [{ id: "a", version: 1 }, { id: "b", version: 1 }] };
    await refusedOnlyInStrict("task.heartbeat", mixed, "All tasks must belong to the same origin");
    const one = await strict.callAt(T, "task.heartbeat", { pid: "w1", tasks: [{ id: "a", version: 1 }, { id: "a.1", version: 1 }] });
    expect(one.status, one.text).toBe(200);
  });
});

describe("strict C2: a heartbeat naming no task", () => {
  it("→ 400 'Tasks array must not be empty' (default: 200, every lease of the pid renewed)", async () => {
    await acquiredOnBoth("job");
    await refusedOnlyInStrict("task.heartbeat", { pid: "w1", tasks: [] }, "Tasks array must not be empty");
  });

  it("is refused even when --empty-heartbeat renew is given explicitly", async () => {
    const ts = await startTestServer({ strict: true, emptyHeartbeat: "renew", timeoutsInterval: 3_600_000 });
    try {
      const res = await ts.callAt(T, "task.heartbeat", { pid: "w1", tasks: [] });
      expect(res.status).toBe(400);
      expect(res.data).toBe("Tasks array must not be empty");
    } finally {
      await ts.close();
    }
  });
});

describe("strict C4: dots in schedule ids", () => {
  const schedule = (id: string, tags: Record<string, string> = { "resonate:target": W }) => ({
    id,
    cron: "0 2 * * *",
    promiseId: "{{.id}}.{{.timestamp}}",
    promiseTimeout: 60_000,
    promiseTags: tags,
  });

  it("schedule.create 'nightly.v2' → 400 \"Schedule ID must not contain '.'\" (default: 200)", async () => {
    await refusedOnlyInStrict("schedule.create", schedule("nightly.v2"), "Schedule ID must not contain '.'");
    expect((await strict.callAt(T, "schedule.create", schedule("nightly"))).status).toBe(200);
  });

  it("the dot is reported before a missing target, as the reference checks it first", async () => {
    await refusedOnlyInStrict("schedule.create", schedule("nightly.v2", {}), "Schedule ID must not contain '.'", 400);
  });
});

describe("strict C1: the background pass times out only promises with a target", () => {
  it("a past-due promise without a target stays pending until a request touches it (default: the pass expires both)", async () => {
    for (const ts of [strict, lenient]) {
      // An SDK ≤ 0.11.4 sleep: a timer promise with no target.
      expect((await ts.callAt(T, "promise.create", createData("sleep", T + 1_000, { "resonate:timer": "true" }))).status).toBe(200);
      expect((await ts.callAt(T, "promise.create", createData("job", T + 1_000, { "resonate:target": W }))).status).toBe(200);
    }
    expect((await strict.snap()).promiseTimeouts.map((t) => t.id)).toEqual(["job"]);
    expect((await lenient.snap()).promiseTimeouts.map((t) => t.id)).toEqual(["job", "sleep"]);

    await strict.tick(T + 2_000);
    await lenient.tick(T + 2_000);

    const s = await strict.snap();
    expect(promiseOf(s, "job").state).toBe("rejected_timedout");
    expect(promiseOf(s, "sleep").state).toBe("pending");
    const l = await lenient.snap();
    expect(promiseOf(l, "job").state).toBe("rejected_timedout");
    expect(promiseOf(l, "sleep").state).toBe("resolved");

    // Lazy timeouts (spec §5.4) are not gated: reading it settles it.
    const read = await strict.callAt(T + 2_000, "promise.get", { id: "sleep" });
    expect(read.data.promise.state).toBe("resolved");
  });
});
