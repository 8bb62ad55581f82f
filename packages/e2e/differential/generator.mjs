// Seeded generator of request sequences for the differential test.
//
// It looks at the current state (our server's last debug.snap, which equals the oracle's after
// normalisation, plus the schedules it knows of) so that most requests are meaningful: versions are
// drawn near a task's current version, heartbeats name held tasks, suspends await existing
// promises. A small id pool makes ids collide; a few pids and addresses are reused; invalid inputs
// are generated on purpose:
//   mode "both"        — sent to both sides, responses and snapshots compared;
//   mode "bothInvalid" — invalid for both (the oracle validates it too): both must answer 400;
//   mode "oursOnly"    — invalid input the oracle does not validate (spec D9/D1): sent to our server
//                        only, which must answer `expect` (400) and change nothing.
//
// Time: `view.T` is the current time. A step may move it forward silently (lazy timeouts) or with a
// debug.tick (background timeouts, retries, lease expiry, schedules). Time never goes back.

export const T0 = 1767225600000; // 2026-01-01T00:00:00Z, spec §15.1
// "ｙ" (U+FF59) and "😀" (U+1F600) sort differently in UTF-16 and in UTF-8 byte order (spec §9).
export const IDS = ["r1", "r1.0", "r1.1", "r2", "r2.0", "x", "ｙ", "😀"];
export const BRANCHES = ["r1", "r2"];
export const PIDS = ["w1", "w2", "c1"];
export const ADDRESSES = ["poll://any@workers", "poll://any@workers/w1", "poll://uni@client/c1", "http://localhost:9999/hook"];
export const SCHEDULE_IDS = ["s1", "s2", "x"];
const TEMPLATES = ["{{.id}}.{{.timestamp}}", "{{.id}}.{{.timestamp}}", "{{.id}}"];
const CRONS = ["*/5 * * * *", "* * * * *", "0 9 * * 1", "*/30 * * * * *", "0 0 * * *"];
const TIMEOUT_OFFSETS = [-1000, 0, 1, 100, 1000, 5000, 30000, 60000, 600000, 600000, 3600000, 3600000, 86400000, 86400000];
const TICK_OFFSETS = [0, 1, 100, 1000, 1000, 5000, 5000, 30000, 30000, 60000, 300000];
const SILENT_OFFSETS = [1, 10, 1000, 30000, 60000];
const SETTLE_STATES = ["resolved", "rejected", "rejected_canceled"];
const TTLS = [1000, 5000, 30000, 60000];

/**
 * Profiles, chosen by seed % 3, vary the pressure: "mixed"; "deep" (long deadlines, small clock
 * steps: long suspend/resume chains); "clock" (short deadlines and leases, many and big ticks,
 * more schedules: timeouts, retries, lease expiry, catch-up).
 */
const PROFILES = {
  mixed: { timeouts: TIMEOUT_OFFSETS, ticks: TICK_OFFSETS, tick: 8, schedule: 2 },
  deep: { timeouts: [1000, 60000, 600000, 3600000, 86400000, 86400000], ticks: [0, 1, 100, 1000, 5000, 30000], tick: 5, schedule: 1 },
  clock: { timeouts: [-1000, 0, 1, 100, 1000, 1000, 5000, 30000, 60000, 600000], ticks: [0, 1, 100, 1000, 5000, 30000, 60000, 300000, 3600000], tick: 14, schedule: 4 },
};
let profile = PROFILES.mixed;
export let profileName = "mixed";

let innerSeq = 0;
const innerHead = () => ({ corrId: `inner-${++innerSeq}`, version: "2026-04-01" });
/** Called at the start of every seed: picks the profile, restarts inner corrIds (byte-identical replays). */
export function resetGenerator(seed = 0) {
  innerSeq = 0;
  profileName = ["mixed", "deep", "clock"][Math.abs(seed) % 3];
  profile = PROFILES[profileName];
}

/** Is the promise settled at time T (stored settled, or pending past its deadline)? */
export function logicallySettled(p, T) {
  return p.state !== "pending" || T >= p.timeoutAt;
}

function value(rng) {
  return rng.weighted([
    [3, { data: "ODQ=" }],
    [2, { headers: { h: "1" }, data: "eA==" }],
    [1, { headers: {} }],
    [1, {}],
  ]);
}

function param(rng) {
  return rng.weighted([
    [3, undefined],
    [2, { data: "YQ==" }],
    [1, { headers: { k: "v" } }],
    [1, {}],
  ]);
}

/** Tags for a create; `target` forces (true) or forbids (false) a resonate:target. */
function tags(rng, T, timeoutAt, { target, delay = true } = {}) {
  const t = {};
  const withTarget = target ?? rng.chance(0.65);
  if (withTarget) t["resonate:target"] = rng.pick(ADDRESSES);
  if (rng.chance(0.8)) t["resonate:scope"] = "global";
  else if (rng.chance(0.5)) t["resonate:scope"] = "local";
  if (rng.chance(0.6)) t["resonate:branch"] = rng.pick(BRANCHES);
  if (rng.chance(0.12)) t["resonate:timer"] = rng.chance(0.85) ? "true" : "TRUE";
  if (rng.chance(0.15)) t["env"] = rng.pick(["prod", "dev"]);
  if (delay && withTarget && rng.chance(0.1)) {
    const d = T + rng.pick([-10, 0, 500, 5000]);
    if (d >= 0 && d < timeoutAt) t["resonate:delay"] = String(d);
  }
  return t;
}

function createData(rng, T, id, opts = {}) {
  const timeoutAt = rng.chance(0.01) ? rng.pick([0, Number.MAX_SAFE_INTEGER]) : T + rng.pick(profile.timeouts);
  const data = { id, timeoutAt, tags: tags(rng, T, timeoutAt, opts) };
  const p = param(rng);
  if (p !== undefined) data.param = p;
  return data;
}

function pickVersion(rng, task) {
  if (!task) return rng.int(0, 2);
  return rng.weighted([
    [8, task.version],
    [1, Math.max(0, task.version - 1)],
    [1, task.version + 1],
  ]);
}

/** A task id: mostly one that exists (weighted towards the interesting states), else any pool id. */
function pickTaskId(rng, view, states) {
  const tasks = [...view.tasks.values()];
  const preferred = states ? tasks.filter((t) => states.includes(t.state)) : tasks;
  if (preferred.length > 0 && rng.chance(0.85)) return rng.pick(preferred).id;
  if (tasks.length > 0 && rng.chance(0.7)) return rng.pick(tasks).id;
  return rng.pick(IDS);
}

function pickPromiseId(rng, view, { pending } = {}) {
  const promises = [...view.promises.values()];
  const pool = pending ? promises.filter((p) => !logicallySettled(p, view.T)) : promises;
  if (pool.length > 0 && rng.chance(0.75)) return rng.pick(pool).id;
  return rng.pick(IDS);
}

/** Operation weights, adapted to the state so that deep states (held, suspended, resumed) occur. */
function opWeights(view) {
  const states = new Map();
  for (const t of view.tasks.values()) states.set(t.state, (states.get(t.state) ?? 0) + 1);
  const has = (s) => (states.get(s) ?? 0) > 0;
  const held = has("acquired");
  return [
    [14, "promise.create"],
    [view.callbacks?.length ? 10 : 6, "promise.settle"],
    [3, "promise.get"],
    [4, "promise.register_callback"],
    [4, "promise.register_listener"],
    [3, "task.get"],
    [6, "task.create"],
    [has("pending") ? 16 : 3, "task.acquire"],
    [held ? 4 : 1, "task.release"],
    [held ? 10 : 2, "task.suspend"],
    [held ? 7 : 2, "task.fulfill"],
    [held ? 10 : 2, "task.fence"],
    [held ? 5 : 2, "task.heartbeat"],
    [2, "task.halt"],
    [has("halted") ? 5 : 1, "task.continue"],
    [profile.schedule, "schedule.create"],
    [1, "schedule.get"],
    [1, "schedule.delete"],
    [profile.tick, "debug.tick"],
    [0.7, "debug.reset"],
    [4, "invalid.oursOnly"],
    [2, "invalid.both"],
  ];
}

/**
 * The next step. Returns { kind, data, mode, expect?, advance?, label }.
 * `advance` (ms) moves the clock forward before the request is sent.
 */
export function nextStep(rng, view) {
  const probe = lazyBatchProbe(rng, view) ?? invalidFenceProbe(rng, view);
  if (probe) return probe;
  let advance = 0;
  if (rng.chance(0.06)) advance = rng.pick(SILENT_OFFSETS);
  const T = view.T + advance;
  const v = { ...view, T };
  const op = rng.weighted(opWeights(v));
  const step = { mode: "both", ...build(rng, v, op) };
  // A valid tick moves the clock to its time; anything else may have moved it silently.
  if (step.kind === "debug.tick" && step.mode === "both") advance = step.data.time - view.T;
  return { ...step, advance };
}

function build(rng, view, op) {
  const { T } = view;
  switch (op) {
    case "promise.create":
      return { kind: op, data: createData(rng, T, rng.pick(IDS)) };
    case "promise.settle": {
      const awaited = (view.callbacks ?? []).map((c) => c.awaited);
      const id = awaited.length > 0 && rng.chance(0.5) ? rng.pick(awaited) : pickPromiseId(rng, view, { pending: rng.chance(0.7) });
      const data = { id, state: rng.pick(SETTLE_STATES) };
      if (rng.chance(0.8)) data.value = value(rng);
      return { kind: op, data };
    }
    case "promise.get":
      return { kind: op, data: { id: pickPromiseId(rng, view) } };
    case "promise.register_callback": {
      if (view.callbacks?.length && rng.chance(0.3)) {
        // re-register an existing callback (idempotency; lazy timeouts of both ends together)
        const c = rng.pick(view.callbacks);
        return { kind: op, data: { awaited: c.awaited, awaiter: c.awaiter } };
      }
      const awaiter = pickTaskId(rng, view, ["suspended", "acquired", "pending"]);
      let awaited = pickPromiseId(rng, view, { pending: rng.chance(0.6) });
      if (awaited === awaiter) awaited = rng.pick(IDS.filter((i) => i !== awaiter));
      return { kind: op, data: { awaited, awaiter } };
    }
    case "promise.register_listener":
      return { kind: op, data: { awaited: pickPromiseId(rng, view, { pending: rng.chance(0.6) }), address: rng.pick(ADDRESSES) } };
    case "task.get":
      return { kind: op, data: { id: pickTaskId(rng, view) } };
    case "task.create": {
      const action = { kind: "promise.create", head: innerHead(), data: createData(rng, T, rng.pick(IDS), { target: true, delay: false }) };
      return { kind: op, data: { pid: rng.pick(PIDS), ttl: rng.pick(TTLS), action } };
    }
    case "task.acquire": {
      const id = pickTaskId(rng, view, ["pending"]);
      return { kind: op, data: { id, version: pickVersion(rng, view.tasks.get(id)), pid: rng.pick(PIDS), ttl: rng.pick(TTLS) } };
    }
    case "task.release": {
      const id = pickTaskId(rng, view, ["acquired"]);
      return { kind: op, data: { id, version: pickVersion(rng, view.tasks.get(id)) } };
    }
    case "task.suspend": {
      const id = pickTaskId(rng, view, ["acquired"]);
      const others = IDS.filter((i) => i !== id);
      const pendingOthers = [...view.promises.values()].filter((p) => p.id !== id && !logicallySettled(p, T)).map((p) => p.id);
      const n = rng.weighted([[5, 1], [3, 2], [1, 3]]);
      const awaited = [];
      for (let i = 0; i < n; i++) {
        awaited.push(pendingOthers.length > 0 && rng.chance(0.6) ? rng.pick(pendingOthers) : rng.pick(others));
      }
      if (rng.chance(0.05)) awaited.push(awaited[0]); // duplicate awaited ids
      const actions = awaited.map((a) => ({ kind: "promise.register_callback", head: innerHead(), data: { awaited: a, awaiter: id } }));
      return { kind: op, data: { id, version: pickVersion(rng, view.tasks.get(id)), actions } };
    }
    case "task.fulfill": {
      const id = pickTaskId(rng, view, ["acquired"]);
      const settle = { id, state: rng.pick(SETTLE_STATES) };
      if (rng.chance(0.85)) settle.value = value(rng);
      return { kind: op, data: { id, version: pickVersion(rng, view.tasks.get(id)), action: { kind: "promise.settle", head: innerHead(), data: settle } } };
    }
    case "task.fence": {
      const id = pickTaskId(rng, view, ["acquired"]);
      const other = rng.pick(IDS.filter((i) => i !== id));
      let action;
      if (rng.chance(0.6)) {
        action = { kind: "promise.create", head: innerHead(), data: createData(rng, T, other) };
      } else {
        const settle = { id: rng.chance(0.7) ? pickPromiseId(rng, view, { pending: true }) : other, state: rng.pick(SETTLE_STATES) };
        if (settle.id === id) settle.id = other;
        if (rng.chance(0.8)) settle.value = value(rng);
        action = { kind: "promise.settle", head: innerHead(), data: settle };
      }
      return { kind: op, data: { id, version: pickVersion(rng, view.tasks.get(id)), action } };
    }
    case "task.heartbeat": {
      const held = [...view.tasks.values()].filter((t) => t.state === "acquired");
      const holder = held.length > 0 && rng.chance(0.8) ? rng.pick(held) : undefined;
      const pid = holder && rng.chance(0.85) ? holder.pid : rng.pick(PIDS);
      const tasks = [];
      if (rng.chance(0.85)) {
        const mine = held.filter((t) => t.pid === pid);
        for (const t of mine) tasks.push({ id: t.id, version: rng.chance(0.85) ? t.version : t.version + 1 });
        if (rng.chance(0.2)) tasks.push({ id: rng.pick(IDS), version: rng.int(0, 3) });
      }
      return { kind: op, data: { pid, tasks } };
    }
    case "task.halt":
      return { kind: op, data: { id: pickTaskId(rng, view, ["pending", "acquired", "suspended"]) } };
    case "task.continue":
      return { kind: op, data: { id: pickTaskId(rng, view, ["halted"]) } };
    case "schedule.create": {
      const promiseTags = { "resonate:target": rng.pick(ADDRESSES) };
      if (rng.chance(0.2)) promiseTags["env"] = "prod";
      if (rng.chance(0.1)) promiseTags["resonate:origin"] = "user-value";
      const data = {
        id: rng.pick(SCHEDULE_IDS),
        cron: rng.pick(CRONS),
        promiseId: rng.pick(TEMPLATES),
        promiseTimeout: rng.pick([0, 1000, 60000, 600000, 600000]),
        promiseParam: rng.chance(0.5) ? { data: "e30=" } : {},
        promiseTags,
      };
      return { kind: op, data };
    }
    case "schedule.get":
    case "schedule.delete":
      return { kind: op, data: { id: rng.pick(SCHEDULE_IDS) } };
    case "debug.tick":
      return { kind: op, data: { time: T + rng.pick(profile.ticks) } };
    case "debug.reset":
      return { kind: op, data: {} };
    case "invalid.oursOnly":
      return { mode: "oursOnly", expect: 400, ...oursOnlyInvalid(rng, view) };
    case "invalid.both":
      return { mode: "bothInvalid", expect: 400, ...bothInvalid(rng, view) };
    default:
      throw new Error(`unknown op ${op}`);
  }
}

/** Invalid input that our server must reject (400) and the oracle does not validate (D9, D1, D32). */
function oursOnlyInvalid(rng, view) {
  const { T } = view;
  const id = rng.pick(IDS);
  const task = pickTaskId(rng, view, ["acquired"]);
  const version = view.tasks.get(task)?.version ?? 0;
  // prefer a promise that is past its deadline but still stored pending (lazy timeouts to run)
  const overdue = [...view.promises.values()].filter((p) => p.id !== task && p.state === "pending" && T >= p.timeoutAt).map((p) => p.id);
  const other = overdue.length > 0 && rng.chance(0.5) ? rng.pick(overdue) : rng.pick(IDS.filter((i) => i !== task));
  const cases = [
    () => ({ label: "create: empty id", kind: "promise.create", data: { id: "", timeoutAt: T + 1000, tags: {} } }),
    () => ({ label: "create: NUL in id", kind: "promise.create", data: { id: "a\u0000b", timeoutAt: T + 1000, tags: {} } }),
    () => ({ label: "create: negative timeoutAt", kind: "promise.create", data: { id, timeoutAt: -1, tags: {} } }),
    () => ({ label: "create: bare group as target", kind: "promise.create", data: { id, timeoutAt: T + 1000, tags: { "resonate:target": "workers" } } }),
    () => ({ label: "create: poll user not any/uni", kind: "promise.create", data: { id, timeoutAt: T + 1000, tags: { "resonate:target": "poll://bob@workers" } } }),
    () => ({ label: "create: non-numeric delay", kind: "promise.create", data: { id, timeoutAt: T + 1000, tags: { "resonate:target": ADDRESSES[0], "resonate:delay": "abc" } } }),
    () => ({ label: "create: delay >= timeoutAt", kind: "promise.create", data: { id, timeoutAt: T + 1000, tags: { "resonate:target": ADDRESSES[0], "resonate:delay": String(T + 1000) } } }),
    () => ({ label: "create: delay without target", kind: "promise.create", data: { id, timeoutAt: T + 1000, tags: { "resonate:delay": String(T + 10) } } }),
    () => ({ label: "settle: state rejected_timedout", kind: "promise.settle", data: { id, state: "rejected_timedout", value: {} } }),
    () => ({ label: "settle: state pending", kind: "promise.settle", data: { id, state: "pending", value: {} } }),
    () => ({ label: "get: empty id", kind: "promise.get", data: { id: "" } }),
    () => ({ label: "listener: bare group address", kind: "promise.register_listener", data: { awaited: id, address: "client" } }),
    () => ({ label: "listener: empty address", kind: "promise.register_listener", data: { awaited: id, address: "" } }),
    () => ({ label: "acquire: ttl 0", kind: "task.acquire", data: { id, version: 0, pid: "w1", ttl: 0 } }),
    () => ({ label: "acquire: version -1", kind: "task.acquire", data: { id, version: -1, pid: "w1", ttl: 1000 } }),
    () => ({ label: "acquire: empty pid", kind: "task.acquire", data: { id, version: 0, pid: "", ttl: 1000 } }),
    () => ({ label: "release: version -1", kind: "task.release", data: { id, version: -1 } }),
    () => ({ label: "task.create: delay tag", kind: "task.create", data: { pid: "c1", ttl: 1000, action: { kind: "promise.create", head: innerHead(), data: { id, timeoutAt: T + 60000, tags: { "resonate:target": ADDRESSES[2], "resonate:delay": String(T + 10) } } } } }),
    () => ({ label: "task.create: ttl 0", kind: "task.create", data: { pid: "c1", ttl: 0, action: { kind: "promise.create", head: innerHead(), data: { id, timeoutAt: T + 60000, tags: { "resonate:target": ADDRESSES[2] } } } } }),
    () => ({ label: "task.create: bare group target", kind: "task.create", data: { pid: "c1", ttl: 1000, action: { kind: "promise.create", head: innerHead(), data: { id, timeoutAt: T + 60000, tags: { "resonate:target": "client" } } } } }),
    // §6.2.7: the lazy timeouts of the task id and the action id run before the inner action is
    // validated (and stay, although the answer is 400); `oracleLazy` replays them on the model.
    () => ({ label: "fence: action kind promise.get", kind: "task.fence", data: { id: task, version, action: { kind: "promise.get", head: innerHead(), data: { id: other } } }, oracleLazy: [task, other] }),
    () => ({ label: "fence: action id = task id", kind: "task.fence", data: { id: task, version, action: { kind: "promise.settle", head: innerHead(), data: { id: task, state: "resolved", value: {} } } } }),
    () => ({ label: "fence: inner create without timeoutAt", kind: "task.fence", data: { id: task, version, action: { kind: "promise.create", head: innerHead(), data: { id: other, tags: {} } } }, oracleLazy: [task, other] }),
    () => ({ label: "fence: inner create bare group target", kind: "task.fence", data: { id: task, version, action: { kind: "promise.create", head: innerHead(), data: { id: other, timeoutAt: T + 1000, tags: { "resonate:target": "workers" } } } }, oracleLazy: [task, other] }),
    () => ({ label: "fulfill: state rejected_timedout", kind: "task.fulfill", data: { id: task, version, action: { kind: "promise.settle", head: innerHead(), data: { id: task, state: "rejected_timedout", value: {} } } } }),
    () => ({ label: "heartbeat: empty pid", kind: "task.heartbeat", data: { pid: "", tasks: [] } }),
    () => ({ label: "schedule: negative promiseTimeout", kind: "schedule.create", data: { id: "s1", cron: "* * * * *", promiseId: "{{.id}}", promiseTimeout: -1, promiseParam: {}, promiseTags: { "resonate:target": ADDRESSES[0] } } }),
    () => ({ label: "schedule: empty id", kind: "schedule.create", data: { id: "", cron: "* * * * *", promiseId: "{{.id}}", promiseTimeout: 1000, promiseParam: {}, promiseTags: { "resonate:target": ADDRESSES[0] } } }),
    () => ({ label: "schedule: empty promiseId", kind: "schedule.create", data: { id: "s2", cron: "* * * * *", promiseId: "", promiseTimeout: 1000, promiseParam: {}, promiseTags: { "resonate:target": ADDRESSES[0] } } }),
    () => ({ label: "create: non-string tag value", kind: "promise.create", data: { id, timeoutAt: T + 1000, tags: { k: 1 } } }),
    () => ({ label: "create: non-string param data", kind: "promise.create", data: { id, timeoutAt: T + 1000, param: { data: 5 }, tags: {} } }),
    () => ({ label: "create: string timeoutAt", kind: "promise.create", data: { id, timeoutAt: String(T + 1000), tags: {} } }),
    () => ({ label: "create: fractional timeoutAt", kind: "promise.create", data: { id, timeoutAt: T + 1000.5, tags: {} } }),
    () => ({ label: "create: missing timeoutAt", kind: "promise.create", data: { id, tags: {} } }),
    () => ({ label: "acquire: string version", kind: "task.acquire", data: { id, version: "0", pid: "w1", ttl: 1000 } }),
    () => ({ label: "heartbeat: tasks not an array", kind: "task.heartbeat", data: { pid: "w1", tasks: {} } }),
    () => ({ label: "unknown kind", kind: "promise.frobnicate", data: { id } }),
    () => ({ label: "unsupported protocol version", kind: "promise.get", data: { id }, headVersion: "2025-01-01" }),
    () => ({ label: "tick: non-integer time", kind: "debug.tick", data: { time: "x" } }),
    () => ({ label: "tick: debug_time != time", kind: "debug.tick", data: { time: T + 1 }, debugTime: T }),
  ];
  return rng.pick(cases)();
}

/** Invalid input that the oracle validates too: both must answer 400. */
function bothInvalid(rng, view) {
  const { T } = view;
  const id = pickTaskId(rng, view, ["acquired"]);
  const version = view.tasks.get(id)?.version ?? 0;
  const other = rng.pick(IDS.filter((i) => i !== id));
  const cb = (awaited, awaiter) => ({ kind: "promise.register_callback", head: innerHead(), data: { awaited, awaiter } });
  const cases = [
    () => ({ label: "register_callback: awaited = awaiter", kind: "promise.register_callback", data: { awaited: id, awaiter: id } }),
    () => ({ label: "suspend: no actions", kind: "task.suspend", data: { id, version, actions: [] } }),
    () => ({ label: "suspend: awaiter is another promise", kind: "task.suspend", data: { id, version, actions: [cb(other, IDS.find((i) => i !== id && i !== other))] } }),
    () => ({ label: "suspend: awaits its own promise", kind: "task.suspend", data: { id, version, actions: [cb(id, id)] } }),
    () => ({ label: "task.create: no target", kind: "task.create", data: { pid: "c1", ttl: 1000, action: { kind: "promise.create", head: innerHead(), data: { id: other, timeoutAt: T + 60000, tags: { "resonate:scope": "global" } } } } }),
    () => ({ label: "fulfill: action id != task id", kind: "task.fulfill", data: { id, version, action: { kind: "promise.settle", head: innerHead(), data: { id: other, state: "resolved", value: {} } } } }),
    () => ({ label: "schedule: no target tag", kind: "schedule.create", data: { id: rng.pick(SCHEDULE_IDS), cron: "* * * * *", promiseId: "{{.id}}.{{.timestamp}}", promiseTimeout: 1000, promiseParam: {}, promiseTags: { env: "prod" } } }),
    () => ({ label: "schedule: invalid cron", kind: "schedule.create", data: { id: rng.pick(SCHEDULE_IDS), cron: "not a cron", promiseId: "{{.id}}.{{.timestamp}}", promiseTimeout: 1000, promiseParam: {}, promiseTags: { "resonate:target": ADDRESSES[0] } } }),
  ];
  return rng.pick(cases)();
}

/**
 * Directed probe (spec §5.4 with several ids): y's task is suspended on x; move the clock past
 * both deadlines without a tick, then send one request whose lazy timeouts cover x and y (x first):
 * register_callback {awaited: x, awaiter: y}, or a suspend of another held task awaiting [x, y].
 */
function lazyBatchProbe(rng, view) {
  if (!rng.chance(0.03)) return undefined;
  const T = view.T;
  const candidates = (view.callbacks ?? []).filter((c) => {
    const x = view.promises.get(c.awaited);
    const y = view.promises.get(c.awaiter);
    if (!x || !y || x.state !== "pending" || y.state !== "pending") return false;
    if (view.tasks.get(c.awaiter)?.state !== "suspended") return false;
    const until = Math.max(x.timeoutAt, y.timeoutAt);
    return until - T <= 3600000;
  });
  if (candidates.length === 0) return undefined;
  const c = rng.pick(candidates);
  const until = Math.max(view.promises.get(c.awaited).timeoutAt, view.promises.get(c.awaiter).timeoutAt);
  const advance = Math.max(0, until - T) + rng.pick([0, 1]);
  const held = [...view.tasks.values()].filter((t) => t.state === "acquired" && t.id !== c.awaited && t.id !== c.awaiter);
  if (held.length > 0 && rng.chance(0.4)) {
    const r = rng.pick(held);
    const actions = [c.awaited, c.awaiter].map((a) => ({ kind: "promise.register_callback", head: innerHead(), data: { awaited: a, awaiter: r.id } }));
    return { mode: "both", label: "probe: lazy timeouts of several ids (suspend)", kind: "task.suspend", data: { id: r.id, version: r.version, actions }, advance };
  }
  return { mode: "both", label: "probe: lazy timeouts of several ids (register_callback)", kind: "promise.register_callback", data: { awaited: c.awaited, awaiter: c.awaiter }, advance };
}

/**
 * Directed probe (spec §6.2.7): move the clock past the deadline of a promise still stored pending
 * and send a task.fence whose inner action is invalid and names it: the lazy timeouts of the task
 * id and the action id run before the inner validation, so the 400 still times the promise out.
 */
function invalidFenceProbe(rng, view) {
  if (!rng.chance(0.015)) return undefined;
  const T = view.T;
  const pending = [...view.promises.values()].filter((p) => p.state === "pending" && p.timeoutAt - T <= 3600000);
  if (pending.length === 0) return undefined;
  const p = rng.pick(pending);
  const advance = Math.max(0, p.timeoutAt - T) + rng.pick([0, 1]);
  const tasks = [...view.tasks.values()].filter((t) => t.id !== p.id);
  const task = tasks.length > 0 ? rng.pick(tasks) : { id: rng.pick(IDS.filter((i) => i !== p.id)), version: 0 };
  const action = rng.chance(0.5)
    ? { kind: "promise.get", head: innerHead(), data: { id: p.id } }
    : { kind: "promise.create", head: innerHead(), data: { id: p.id, tags: {} } };
  return { mode: "oursOnly", expect: 400, label: "probe: fence with an invalid inner action on an overdue promise", kind: "task.fence", data: { id: task.id, version: task.version, action }, oracleLazy: [task.id, p.id], advance };
}
