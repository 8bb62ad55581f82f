// Comparison of our server's answers and snapshots with the oracle's, after normalising the known,
// documented differences (docs/deviations.md). Every normaliser has the id of its row in that
// table; a normaliser is "credited" for a step when applying it removed at least one difference,
// which is how the runner counts the differences it found per category.
//
// Normalisers never hide a behaviour of OUR server that the spec does not allow: where the oracle
// deviates from the reference, the oracle's side is rewritten to the reference behaviour (e.g. its
// resumes arrays become counts, its fence preload is recomputed) and ours is still checked.

import { logicallySettled } from "./generator.mjs";

export const PROTOCOL_VERSION = "2026-04-01";
const LINEAGE_TAGS = ["resonate:origin", "resonate:branch", "resonate:parent", "resonate:prefix"];

// ---------------------------------------------------------------------------------------------
// Deep diff

export function diff(a, b, path = "", out = []) {
  if (a === b) return out;
  const ta = kindOf(a);
  const tb = kindOf(b);
  if (ta !== tb || (ta !== "object" && ta !== "array")) {
    out.push({ path: path || "(root)", ours: a, oracle: b });
    return out;
  }
  if (ta === "array") {
    // arrays of records with unique ids are compared by id: "promises[id=r1].state"
    const keyed = (arr) => arr.length > 0 && arr.every((x) => x && typeof x === "object" && typeof x.id === "string") && new Set(arr.map((x) => x.id)).size === arr.length;
    if ((keyed(a) && (keyed(b) || b.length === 0)) || (a.length === 0 && keyed(b))) {
      const ma = new Map(a.map((x) => [x.id, x]));
      const mb = new Map(b.map((x) => [x.id, x]));
      const ids = [...new Set([...ma.keys(), ...mb.keys()])];
      const sameOrder = a.length === b.length && a.every((x, i) => x.id === b[i].id);
      for (const id of ids) {
        const p = `${path}[id=${id}]`;
        if (!ma.has(id)) out.push({ path: p, ours: "(absent)", oracle: mb.get(id) });
        else if (!mb.has(id)) out.push({ path: p, ours: ma.get(id), oracle: "(absent)" });
        else diff(ma.get(id), mb.get(id), p, out);
      }
      if (!sameOrder && ma.size === mb.size && ids.every((id) => ma.has(id) && mb.has(id))) {
        out.push({ path: `${path}(order)`, ours: a.map((x) => x.id), oracle: b.map((x) => x.id) });
      }
      return out;
    }
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) {
      if (i >= a.length) out.push({ path: `${path}[${i}]`, ours: "(absent)", oracle: b[i] });
      else if (i >= b.length) out.push({ path: `${path}[${i}]`, ours: a[i], oracle: "(absent)" });
      else diff(a[i], b[i], `${path}[${i}]`, out);
    }
    return out;
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of [...keys].sort()) {
    const p = path ? `${path}.${k}` : k;
    if (!(k in a)) out.push({ path: p, ours: "(absent)", oracle: b[k] });
    else if (!(k in b)) out.push({ path: p, ours: a[k], oracle: "(absent)" });
    else diff(a[k], b[k], p, out);
  }
  return out;
}

function kindOf(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

// ---------------------------------------------------------------------------------------------
// Record helpers

function isPromiseRecord(v) {
  return v && typeof v === "object" && !Array.isArray(v) && typeof v.id === "string" && typeof v.state === "string" && "timeoutAt" in v;
}

function isTaskRecord(v) {
  return v && typeof v === "object" && !Array.isArray(v) && typeof v.id === "string" && typeof v.version === "number" && "resumes" in v;
}

/** Calls fn(node) on every object/array node of a tree (pre-order). */
function visit(v, fn) {
  if (v === null || typeof v !== "object") return;
  fn(v);
  if (Array.isArray(v)) v.forEach((x) => visit(x, fn));
  else Object.values(v).forEach((x) => visit(x, fn));
}

/** Walks two trees in parallel (same keys / indices), calling fn(ours, oracle) on object pairs. */
function visitPairs(a, b, fn) {
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return;
  if (Array.isArray(a) !== Array.isArray(b)) return;
  fn(a, b);
  if (Array.isArray(a)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) visitPairs(a[i], b[i], fn);
  } else {
    for (const k of Object.keys(a)) if (k in b) visitPairs(a[k], b[k], fn);
  }
}

/** Byte-wise UTF-8 order, as SQLite and the reference sort ids (spec §9), not UTF-16 order. */
const utf8 = (a, b) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
const byId = (x, y) => utf8(x.id, y.id);
const byKey = (f) => (x, y) => utf8(f(x), f(y));

// ---------------------------------------------------------------------------------------------
// Normalisers: (ours, oracle, ctx) → mutate in place. Ids refer to docs/deviations.md.

/**
 * D31: the model keeps insertion order; the reference sorts snapshot arrays (by id, then secondary
 * key: callbacks by awaiter then awaited, listeners by id then address, queued executes before
 * unblocks) and preload lists (by id). Only the oracle's side is sorted: ours must already be in
 * this order.
 */
function sortArrays(o, x, ctx) {
  if (ctx.what === "snap") {
    const d = x.data;
    if (!d || typeof d !== "object") return;
    d.promises?.sort(byId);
    d.promiseTimeouts?.sort(byId);
    d.callbacks?.sort(byKey((c) => `${c.awaiter}\u0000${c.awaited}`));
    d.listeners?.sort(byKey((l) => `${l.id}\u0000${l.address}`));
    d.tasks?.sort(byId);
    d.taskTimeouts?.sort(byId);
    d.messages?.sort(byKey(messageKey));
  } else {
    visit(x.data, (n) => {
      if (!Array.isArray(n) && Array.isArray(n.preload)) n.preload.sort(byId);
    });
  }
}

function messageKey(m) {
  const msg = m.message ?? {};
  if (msg.kind === "execute") return `0\u0000${msg.data?.task?.id}`;
  return `1\u0000${msg.data?.promise?.id}\u0000${m.address}`;
}

/** D17: the model leaves `value` (settle without value) or `param` (task.create without param) out. */
function absentValues(o, x) {
  visit(x.data, (n) => {
    if (isPromiseRecord(n)) {
      if (!("value" in n)) n.value = {};
      if (!("param" in n)) n.param = {};
    }
  });
}

/** D19: the model's `resumes` is an array of awaited ids; the reference counts them. */
function resumesAsCount(o, x) {
  visit(x.data, (n) => {
    if (isTaskRecord(n) && Array.isArray(n.resumes)) n.resumes = n.resumes.length;
  });
}

/**
 * D29: a schedule-fired promise gets resonate:origin/branch/parent/prefix = its id from the
 * reference (not from the model), and createdAt = the firing time — also when it is created
 * already timed out (reference: fired_at; model: the tick time if pending, timeoutAt if expired).
 * The oracle's side is rewritten to the reference values (firing times recorded by the adapter).
 */
function scheduleFired(o, x, ctx) {
  visit(x.data, (b) => {
    if (!isPromiseRecord(b) || b.tags?.["resonate:schedule"] === undefined) return;
    const firedAt = ctx.oracle.firedAt.get(b.id);
    if (firedAt === undefined) return;
    for (const t of LINEAGE_TAGS) b.tags[t] = b.id;
    b.createdAt = firedAt;
  });
}

/** ERR (D10, D16, D20, D21, D22): error texts differ, and the model's 422 from suspend has body {}. */
function errorTexts(o, x) {
  const so = o.head?.status;
  const sx = x.head?.status;
  if (so === sx && so >= 400) {
    o.data = "<error>";
    x.data = "<error>";
  }
  visitPairs(o.data, x.data, (a, b) => {
    // task.fence inner envelope
    if (a.head && b.head && typeof a.head.status === "number" && a.head.status === b.head.status && a.head.status >= 400) {
      a.data = "<error>";
      b.data = "<error>";
    }
  });
}

/** D20: task.create on a task that is already fulfilled: the reference answers preload []. */
function taskCreateFulfilledPreload(o, x, ctx) {
  if (ctx.kind !== "task.create" || x.head?.status !== 200) return;
  if (x.data?.task?.state === "fulfilled" && Array.isArray(x.data.preload)) x.data.preload = [];
}

/**
 * D23: task.fence — the reference's inner head carries the OUTER corrId and version 2026-04-01,
 * and its preload holds the task promise's branch siblings; the model copies the inner head and
 * answers preload []. The oracle's side is rebuilt the reference way (its own branch-sibling
 * computation supplies the preload).
 */
function fenceShape(o, x, ctx) {
  if (ctx.kind !== "task.fence" || x.head?.status !== 200 || !x.data?.action) return;
  x.data.action.head.corrId = ctx.corrId;
  x.data.action.head.version = PROTOCOL_VERSION;
  x.data.preload = ctx.oracle.preloadOf(ctx.request.data.id).sort(byId);
  absentValues(null, { data: x.data.preload });
}

/**
 * D13: a heartbeat extends the lease of a task whose promise is past its deadline but not yet
 * settled in storage (reference); the model skips such tasks. The difference lives only in that
 * task's lease timeout until the next touch or tick settles the promise (which deletes it).
 */
function heartbeatOnExpired(o, x, ctx) {
  const promises = new Map((o.data?.promises ?? []).map((p) => [p.id, p]));
  const tasks = new Map((o.data?.tasks ?? []).map((t) => [t.id, t]));
  const xt = new Map((x.data?.taskTimeouts ?? []).map((t) => [t.id, t]));
  for (const ot of o.data?.taskTimeouts ?? []) {
    const p = promises.get(ot.id);
    const bt = xt.get(ot.id);
    if (!p || !bt || ot.type !== 1 || bt.type !== 1) continue;
    if (p.state === "pending" && ctx.T >= p.timeoutAt && tasks.get(ot.id)?.state === "acquired" && ot.timeout > bt.timeout) {
      bt.timeout = ot.timeout;
    }
  }
}

export const RESPONSE_NORMALISERS = [
  { id: "D31", fn: sortArrays },
  { id: "D17", fn: absentValues },
  { id: "D19", fn: resumesAsCount },
  { id: "D29", fn: scheduleFired },
  { id: "ERR", fn: errorTexts },
  { id: "D20", fn: taskCreateFulfilledPreload },
  { id: "D23", fn: fenceShape },
];

export const SNAP_NORMALISERS = [
  { id: "D31", fn: sortArrays },
  { id: "D17", fn: absentValues },
  { id: "D19", fn: resumesAsCount },
  { id: "D29", fn: scheduleFired },
  { id: "D13", fn: heartbeatOnExpired },
];

/**
 * Normalises a pair and compares. Returns { diffs, credited: [ids], ours, oracle } where `ours`
 * and `oracle` are the normalised copies.
 */
export function compare(oursEnv, oracleEnv, normalisers, ctx) {
  const o = clone(oursEnv);
  const x = clone(oracleEnv);
  let diffs = diff(o, x);
  const credited = [];
  for (const n of normalisers) {
    if (diffs.length === 0) break;
    n.fn(o, x, ctx);
    const after = diff(o, x);
    if (after.length < diffs.length || JSON.stringify(after) !== JSON.stringify(diffs)) {
      if (after.length < diffs.length) credited.push(n.id);
    }
    diffs = after;
  }
  return { diffs, credited, ours: o, oracle: x };
}

/** Our snapshot normalised on its own (sorted) — the generator's view of the state. */
export function viewFromSnap(snapData, T, schedules) {
  return {
    T,
    promises: new Map((snapData?.promises ?? []).map((p) => [p.id, p])),
    tasks: new Map((snapData?.tasks ?? []).map((t) => [t.id, t])),
    callbacks: snapData?.callbacks ?? [],
    messages: snapData?.messages ?? [],
    schedules,
  };
}

// ---------------------------------------------------------------------------------------------
// Predicted deviations: requests for which the two sides are known to differ, decided from the
// state before the request. `diverges` means the stores differ afterwards, so the runner starts
// a new episode (both sides reset).

/** SDK 0.11.5 model: the promise kinds it accepts listeners on (D16). */
function awaitableInModel(tags) {
  return tags["resonate:scope"] === "global" || tags["resonate:external"] === "true" || tags["resonate:target"] !== undefined || tags["resonate:timer"] === "true";
}

/** The ids a request lazily times out, in the order our server and the model visit them (§5.4). */
function lazyIds(kind, data) {
  if (kind === "promise.register_callback") return [data.awaited, data.awaiter];
  if (kind === "task.suspend") return [data.id, ...new Set((data.actions ?? []).map((a) => a.data?.awaited))];
  if (kind === "task.fence" && typeof data.action?.data?.id === "string") return [data.id, data.action.data.id];
  return [];
}

/**
 * X1: several ids of one request time out lazily together, and one of them (x, visited first)
 * is awaited by another (y) whose task is suspended. The reference times the set out as one batch
 * (settle all, fulfil their tasks, then resume awaiters except tasks fulfilled in this batch), so
 * y is fulfilled and never resumed. Visiting the ids one by one (the model) resumes y first —
 * pending, execute queued — and then fulfils it, leaving a stale execute in the outbox.
 */
function lazyBatch(step, view) {
  const T = view.T;
  const expired = lazyIds(step.kind, step.data).filter((id) => {
    const p = view.promises.get(id);
    return p && p.state === "pending" && T >= p.timeoutAt;
  });
  for (let i = 0; i < expired.length; i++) {
    for (let j = i + 1; j < expired.length; j++) {
      const [x, y] = [expired[i], expired[j]];
      if (view.tasks.get(y)?.state === "suspended" && view.callbacks.some((c) => c.awaited === x && c.awaiter === y)) return y;
    }
  }
  return undefined;
}

export function predict(step, view) {
  const { kind, data } = step;
  const T = view.T;
  if (step.mode === "both") {
    const y = lazyBatch(step, view);
    if (y !== undefined) return { id: "X1", compareResponse: true, diverges: true, awaiter: y };
  }
  if (step.mode === "both" && kind === "promise.register_callback") {
    const awaited = view.promises.get(data.awaited);
    const awaiter = view.promises.get(data.awaiter);
    const task = view.tasks.get(data.awaiter);
    if (awaited && awaiter && awaiter.tags["resonate:target"] !== undefined && task) {
      if (logicallySettled(awaited, T) && !logicallySettled(awaiter, T) && ["suspended", "pending", "acquired"].includes(task.state)) {
        return { id: "D15", expectOurs: 200, diverges: true };
      }
    }
  }
  if (step.mode === "both" && kind === "promise.register_listener") {
    const awaited = view.promises.get(data.awaited);
    if (awaited && !awaitableInModel(awaited.tags)) {
      return { id: "D16", expectOurs: 200, diverges: !logicallySettled(awaited, T) };
    }
  }
  if (step.mode === "bothInvalid" && kind === "schedule.create" && data.cron === "not a cron" && view.schedules.has(data.id)) {
    // The model parses the cron only when it creates a schedule; the reference validates first.
    return { id: "D30", expectOurs: 400, diverges: false };
  }
  return null;
}

/**
 * For predicted deviations the oracle is no reference, so our server's effect is checked against
 * the spec directly, on its snapshot after the request. Returns a list of problems.
 */
export function checkPredicted(prediction, step, before, after) {
  const problems = [];
  const T = before.T;
  const tasks = new Map((after?.tasks ?? []).map((t) => [t.id, t]));
  if (prediction.id === "D15") {
    // §6.1.4: awaited already settled → a suspended awaiter resumes now; a pending or acquired
    // awaiter gets a ready callback (resumes + 1, unless that pair was already ready).
    const id = step.data.awaiter;
    const was = before.tasks.get(id);
    const now = tasks.get(id);
    if (!now) problems.push(`D15 check: task ${id} vanished`);
    else if (was.state === "suspended") {
      const target = before.promises.get(id).tags["resonate:target"];
      const exec = (after.messages ?? []).find((m) => m.message.kind === "execute" && m.message.data.task.id === id);
      const tt = (after.taskTimeouts ?? []).find((t) => t.id === id);
      if (now.state !== "pending" || now.version !== was.version) problems.push(`D15 check: suspended awaiter ${id} should be pending v${was.version}, is ${now.state} v${now.version}`);
      if (now.resumes < 1) problems.push(`D15 check: resumed awaiter ${id} has resumes ${now.resumes}`);
      if (!exec || exec.address !== target || exec.message.data.task.version !== was.version) problems.push(`D15 check: no execute(${id}, ${was.version}) to ${target}: ${JSON.stringify(exec)}`);
      if (!tt || tt.type !== 0 || tt.timeout !== T + 30000) problems.push(`D15 check: retry timeout of ${id} should be type 0 at T+30000: ${JSON.stringify(tt)}`);
    } else {
      if (now.state !== was.state || now.version !== was.version) problems.push(`D15 check: awaiter ${id} changed from ${was.state} v${was.version} to ${now.state} v${now.version}`);
      if (now.resumes < was.resumes || now.resumes > was.resumes + 1) problems.push(`D15 check: resumes of ${id} went from ${was.resumes} to ${now.resumes}`);
    }
  }
  if (prediction.id === "X1") {
    // Reference: the awaiter fulfilled in the batch is not resumed, so no execute is queued for it.
    const y = prediction.awaiter;
    const execOf = (msgs) => JSON.stringify((msgs ?? []).find((m) => m.message.kind === "execute" && m.message.data.task.id === y) ?? null);
    if (execOf(after?.messages) !== execOf(before.messages)) {
      problems.push(`X1 check: an execute for ${y} was queued although ${y} was fulfilled by the same batch of lazy timeouts: before ${execOf(before.messages)}, after ${execOf(after?.messages)}`);
    }
    if (tasks.get(y)?.state !== "fulfilled") problems.push(`X1 check: ${y} should be fulfilled, is ${tasks.get(y)?.state}`);
  }
  if (prediction.id === "D16") {
    // §6.1.5: a pending promise gets the listener, a settled one does not.
    const p = before.promises.get(step.data.awaited);
    const has = (after?.listeners ?? []).some((l) => l.id === step.data.awaited && l.address === step.data.address);
    if (!logicallySettled(p, T) && !has) problems.push(`D16 check: listener ${step.data.address} on pending ${p.id} missing`);
    if (logicallySettled(p, T) && has) problems.push(`D16 check: listener stored on settled ${p.id}`);
  }
  return problems;
}
