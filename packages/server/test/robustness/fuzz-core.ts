// A seeded request fuzzer for POST / and GET /poll/… (issue "Reliability and security", item 5).
// Everything random comes from one seed, so a failure is replayed with FUZZ_SEED=<seed>.
// Used by test/robustness/fuzz.test.ts (a few thousand requests) and scripts/fuzz-soak.ts (long runs).

import net from "node:net";
import { PROTOCOL_VERSION, health, peek } from "./util";

// ---------------------------------------------------------------------------------------------
// Randomness

/** mulberry32: small, fast, good enough for fuzzing, and identical on every platform. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }
}

export function seedFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const given = env["FUZZ_SEED"];
  if (given !== undefined && given !== "") {
    const n = Number(given);
    if (!Number.isInteger(n)) throw new Error(`FUZZ_SEED must be an integer, got ${given}`);
    return n >>> 0;
  }
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Nasty values

const BASE_TIME = 1767225600000; // 2026-01-01T00:00:00Z (spec §15.1)

export const NASTY_STRINGS: readonly string[] = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\uD800",
  "\uDFFF",
  "a\uD800b",
  "\uDBFF\uDFFF",
  "😀",
  "\u202Eevil",
  "\uFEFF",
  "%ZZ",
  "%",
  "%00",
  "%E0%A4%A",
  "../../etc/passwd",
  "'; DROP TABLE promises; --",
  "\" OR 1=1 --",
  "%s%n%x",
  "\\",
  "\"",
  "\n",
  "\r\n\r\n",
  "data: injected\n\n",
  "{{.id}}",
  "{{.timestamp}}",
  "{{.id}}.{{.timestamp}}",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "resonate:target",
  "1e309",
  "-1",
  "NaN",
  "null",
  "true",
  "job-1",
  "job-1.0",
  "p1",
  "workers",
];

export const NASTY_ADDRESSES: readonly string[] = [
  "poll://any@workers",
  "poll://uni@client/c1",
  "poll://any@workers/w1",
  "poll://uni@workers",
  "poll://any@",
  "poll://uni@",
  "poll://any@%ZZ",
  "poll://any@%",
  "poll://any@g/%E0",
  "poll://any@g/%",
  "poll://any@g%00",
  "poll://any@g/%00",
  "poll://any:pw@g",
  "poll://x@g",
  "poll://@g",
  "POLL://ANY@WORKERS",
  "poll://any@[::1]",
  "poll://any@[::1",
  "poll:any@g",
  "poll://any@g/../x",
  "poll://any@g?x=1#y",
  "poll://any@" + "g".repeat(300),
  "http://",
  "http://127.0.0.1:1/",
  "http://[::1]:1/x",
  "https://%41/",
  "http://a b",
  "gcps://project/topic",
  "gcps://",
  "bash://x",
  "javascript:alert(1)",
  "file:///etc/passwd",
  "workers",
  "",
];

export const NASTY_CRONS: readonly string[] = [
  "* * * * *",
  "* * * * * *",
  "*/5 * * * *",
  "0 9 * * 1",
  "not a cron",
  "",
  "* * * *",
  "* * * * * * *",
  "60 * * * *",
  "* 24 * * *",
  "0 0 30 2 *",
  "0 0 31 2 1",
  "0 0 29 2 *",
  "0 0 * 2 1#5",
  "0 0 * 2 0#5",
  "0 0 L * *",
  "0 0 ? * *",
  "@daily",
  "@yearly",
  "@reboot",
  "@",
  "@@",
  "*/0 * * * *",
  "*/1000000000 * * * *",
  "0-59/1 * * * *",
  "1-0 * * * *",
  "* * * * MON-FRI",
  "* * * JAN-DEC *",
  "9999999999 * * * *",
  "\u0000 * * * *",
];

/** Number literals as raw JSON text (some are not valid JSON, some overflow to Infinity). */
const RAW_NUMBERS: readonly string[] = ["NaN", "Infinity", "-Infinity", "1e309", "-1e309", "0x10", "01", ".5", "+1", "1.", "-", "1e", "--1", "9".repeat(400)];

const NASTY_NUMBERS: readonly number[] = [
  0,
  -0,
  -1,
  1,
  1.5,
  -1.5,
  0.1,
  2 ** 31,
  2 ** 32,
  2 ** 53 - 1,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  1e21,
  1e308,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  8.64e15,
  8.64e15 + 1,
  BASE_TIME,
  BASE_TIME + 60_000,
];

function nastyString(rng: Rng): string {
  switch (rng.int(6)) {
    case 0:
      return rng.pick(NASTY_STRINGS);
    case 1:
      return rng.pick(NASTY_ADDRESSES);
    case 2:
      return randomUnicode(rng, rng.range(1, 40));
    case 3:
      return rng.pick(NASTY_STRINGS) + randomUnicode(rng, rng.range(0, 8)) + rng.pick(NASTY_STRINGS);
    case 4:
      // Long strings; now and then one near the body limit.
      return rng.pick(["x", "é", "😀", "\u0000", "%"]).repeat(rng.chance(0.05) ? rng.range(100_000, 700_000) : rng.range(100, 20_000));
    default:
      return `id-${rng.int(50)}`;
  }
}

/** Code points from every plane, lone surrogates and controls included. */
function randomUnicode(rng: Rng, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) {
    switch (rng.int(6)) {
      case 0:
        out += String.fromCharCode(rng.int(0x20));
        break;
      case 1:
        out += String.fromCharCode(0xd800 + rng.int(0x800)); // a surrogate, often unpaired
        break;
      case 2:
        out += String.fromCodePoint(rng.range(0x10000, 0x10ffff));
        break;
      case 3:
        out += String.fromCharCode(rng.range(0x80, 0xffff));
        break;
      default:
        out += String.fromCharCode(rng.range(0x20, 0x7e));
    }
  }
  return out;
}

/** Sets an own property, even "__proto__" (a plain assignment would change the prototype). */
function setOwn(target: object, key: string | number, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

function deepNest(rng: Rng, depth: number): unknown {
  let value: unknown = rng.chance(0.5) ? "leaf" : 1;
  const asArray = rng.chance(0.5);
  for (let i = 0; i < depth; i++) value = asArray ? [value] : { a: value };
  return value;
}

/** Any JSON value, nasty ones preferred. */
export function nastyValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(10)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
    case 3:
      return rng.pick(NASTY_NUMBERS);
    case 4:
    case 5:
      return nastyString(rng);
    case 6:
      return depth > 2 ? [] : Array.from({ length: rng.int(4) }, () => nastyValue(rng, depth + 1));
    case 7: {
      if (depth > 2) return {};
      const out: Record<string, unknown> = {};
      for (let i = rng.int(4); i > 0; i--) setOwn(out, nastyString(rng).slice(0, 50), nastyValue(rng, depth + 1));
      return out;
    }
    case 8:
      return deepNest(rng, rng.chance(0.1) ? rng.range(300, 1000) : rng.range(10, 200));
    default:
      return rng.chance(0.5) ? {} : [];
  }
}

// ---------------------------------------------------------------------------------------------
// Valid requests (shapes from the spec's examples, §6), aimed at ids that exist

/** What the fuzzer learned from the server's answers, so that later requests hit real rows. */
export class FuzzState {
  readonly promiseIds: string[] = [];
  readonly taskVersions = new Map<string, number>();
  readonly scheduleIds: string[] = [];
  readonly pids = ["w1", "w2", "fuzz-pid"];

  remember(list: string[], id: string, cap = 300): void {
    if (list.includes(id)) return;
    list.push(id);
    if (list.length > cap) list.shift();
  }

  /** Feeds a successful response back into the state. */
  learn(response: any): void {
    const data = response?.data;
    if (!data || typeof data !== "object") return;
    const promises = [data.promise, data.action?.data?.promise, ...(Array.isArray(data.promises) ? data.promises : []), ...(Array.isArray(data.preload) ? data.preload : [])];
    for (const p of promises) if (p && typeof p.id === "string" && p.id.length < 200) this.remember(this.promiseIds, p.id);
    const tasks = [data.task, ...(Array.isArray(data.tasks) ? data.tasks : [])];
    for (const t of tasks) {
      if (t && typeof t.id === "string" && typeof t.version === "number" && t.id.length < 200) {
        this.taskVersions.set(t.id, t.version);
        if (this.taskVersions.size > 300) this.taskVersions.delete(this.taskVersions.keys().next().value!);
      }
    }
    if (data.schedule && typeof data.schedule.id === "string") this.remember(this.scheduleIds, data.schedule.id, 50);
  }
}

const ADDRESSES_OK = ["poll://any@workers", "poll://any@workers/w1", "poll://uni@client/c1", "poll://any@fuzz", "http://127.0.0.1:9/none"];

function someId(rng: Rng, state: FuzzState): string {
  if (state.promiseIds.length > 0 && rng.chance(0.6)) return rng.pick(state.promiseIds);
  if (rng.chance(0.15)) return nastyString(rng).slice(0, 200) || "x";
  const base = `f${rng.int(40)}`;
  return rng.chance(0.4) ? `${base}.${rng.int(4)}` : base;
}

function someTask(rng: Rng, state: FuzzState): { id: string; version: number } {
  if (state.taskVersions.size > 0 && rng.chance(0.7)) {
    const ids = [...state.taskVersions.keys()];
    const id = rng.pick(ids);
    const v = state.taskVersions.get(id)!;
    return { id, version: rng.chance(0.8) ? v : rng.pick([v - 1, v + 1, 0]) };
  }
  return { id: someId(rng, state), version: rng.int(3) };
}

function value(rng: Rng): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (rng.chance(0.6)) out["headers"] = rng.chance(0.8) ? { k: "v" } : {};
  if (rng.chance(0.7)) out["data"] = rng.pick(["e30=", "ODQ=", "eyJmdW5jIjoiY29tcHV0ZVNvbWV0aGluZyIsImFyZ3MiOls0Ml0sInZlcnNpb24iOjF9", ""]);
  return out;
}

function tags(rng: Rng, id: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (rng.chance(0.6)) out["resonate:target"] = rng.chance(0.9) ? rng.pick(ADDRESSES_OK) : rng.pick(NASTY_ADDRESSES);
  if (rng.chance(0.3)) out["resonate:branch"] = id.split(".")[0]!;
  if (rng.chance(0.2)) out["resonate:timer"] = "true";
  if (rng.chance(0.1)) out["resonate:delay"] = rng.pick([String(BASE_TIME + 5000), "abc", "-1", "1.5", String(BASE_TIME + 10 ** 9)]);
  if (rng.chance(0.3)) out["resonate:scope"] = "global";
  if (rng.chance(0.1)) out[nastyString(rng).slice(0, 40)] = nastyString(rng).slice(0, 200);
  return out;
}

function timeoutAt(rng: Rng): number {
  return rng.pick([BASE_TIME + 60_000, BASE_TIME + 3_600_000, BASE_TIME - 1, Date.now() + 60_000, Date.now() + 500, Date.now() + 86_400_000, 0, 2 ** 53 - 1]);
}

function createData(rng: Rng, state: FuzzState, id = someId(rng, state)): Record<string, unknown> {
  const data: Record<string, unknown> = { id, timeoutAt: timeoutAt(rng) };
  if (rng.chance(0.7)) data["param"] = value(rng);
  if (rng.chance(0.8)) data["tags"] = tags(rng, id);
  return data;
}

function innerHead(rng: Rng): Record<string, unknown> {
  return { corrId: `inner-${rng.int(1000)}`, version: PROTOCOL_VERSION };
}

const SETTLE_STATES = ["resolved", "rejected", "rejected_canceled"];

/** A well-formed request of this kind (it may still fail for a protocol reason: 404, 409, …). */
export function validData(rng: Rng, state: FuzzState, kind: string): Record<string, unknown> {
  const pid = rng.pick(state.pids);
  switch (kind) {
    case "promise.get":
    case "task.get":
    case "task.halt":
    case "task.continue":
      return { id: kind.startsWith("task") ? someTask(rng, state).id : someId(rng, state) };
    case "promise.create":
      return createData(rng, state);
    case "promise.settle":
      return { id: someId(rng, state), state: rng.pick(SETTLE_STATES), value: value(rng) };
    case "promise.register_callback":
      return { awaited: someId(rng, state), awaiter: someTask(rng, state).id };
    case "promise.register_listener":
      return { awaited: someId(rng, state), address: rng.chance(0.9) ? rng.pick(ADDRESSES_OK) : rng.pick(NASTY_ADDRESSES) };
    case "promise.search":
      return {
        ...(rng.chance(0.5) && { state: rng.pick(["pending", "resolved", "rejected", "rejected_canceled", "rejected_timedout"]) }),
        ...(rng.chance(0.3) && { tags: { "resonate:scope": "global" } }),
        ...(rng.chance(0.5) && { limit: rng.pick([1, 10, 100, 1000]) }),
        ...(rng.chance(0.3) && { cursor: someId(rng, state) }),
      };
    case "task.create": {
      const id = someId(rng, state);
      const data = createData(rng, state, id);
      data["tags"] = { ...(data["tags"] as object), "resonate:target": rng.pick(ADDRESSES_OK) };
      return { pid, ttl: rng.pick([1000, 60_000, 1]), action: { kind: "promise.create", head: innerHead(rng), data } };
    }
    case "task.acquire": {
      const t = someTask(rng, state);
      return { id: t.id, version: t.version, pid, ttl: rng.pick([1000, 60_000, 5]) };
    }
    case "task.release": {
      const t = someTask(rng, state);
      return { id: t.id, version: t.version };
    }
    case "task.suspend": {
      const t = someTask(rng, state);
      const n = rng.range(1, 3);
      return {
        id: t.id,
        version: t.version,
        actions: Array.from({ length: n }, () => ({ kind: "promise.register_callback", head: innerHead(rng), data: { awaited: someId(rng, state), awaiter: t.id } })),
      };
    }
    case "task.fulfill": {
      const t = someTask(rng, state);
      return { id: t.id, version: t.version, action: { kind: "promise.settle", head: innerHead(rng), data: { id: t.id, state: rng.pick(SETTLE_STATES), value: value(rng) } } };
    }
    case "task.fence": {
      const t = someTask(rng, state);
      const child = `${t.id}.${rng.int(5)}`;
      const action = rng.chance(0.6)
        ? { kind: "promise.create", head: innerHead(rng), data: createData(rng, state, child) }
        : { kind: "promise.settle", head: innerHead(rng), data: { id: rng.chance(0.7) ? child : someId(rng, state), state: rng.pick(SETTLE_STATES), value: value(rng) } };
      return { id: t.id, version: t.version, action };
    }
    case "task.heartbeat":
      return { pid, tasks: Array.from({ length: rng.int(4) }, () => someTask(rng, state)) };
    case "task.search":
      return {
        ...(rng.chance(0.5) && { state: rng.pick(["pending", "acquired", "suspended", "halted", "fulfilled"]) }),
        ...(rng.chance(0.5) && { limit: rng.pick([1, 10, 100, 1000]) }),
        ...(rng.chance(0.3) && { cursor: someId(rng, state) }),
      };
    case "schedule.get":
    case "schedule.delete":
      return { id: state.scheduleIds.length > 0 && rng.chance(0.7) ? rng.pick(state.scheduleIds) : `s${rng.int(60)}` };
    case "schedule.create":
      return {
        id: `s${rng.int(60)}`,
        cron: rng.chance(0.5) ? rng.pick(["* * * * *", "*/5 * * * *", "0 9 * * 1", "* * * * * *"]) : rng.pick(NASTY_CRONS),
        promiseId: rng.pick(["{{.id}}.{{.timestamp}}", "{{.id}}", "{{.id}}-{{.timestamp}}", "fixed"]),
        promiseTimeout: rng.pick([0, 1000, 60_000, 86_400_000, 2 ** 53 - 1]),
        ...(rng.chance(0.6) && { promiseParam: value(rng) }),
        promiseTags: { "resonate:target": rng.chance(0.85) ? rng.pick(ADDRESSES_OK) : rng.pick(NASTY_ADDRESSES) },
      };
    case "schedule.search":
      return { ...(rng.chance(0.5) && { limit: rng.pick([1, 10, 1000]) }), ...(rng.chance(0.3) && { cursor: "s" }) };
    case "debug.tick":
      return { time: rng.pick([BASE_TIME, BASE_TIME + 30_000, BASE_TIME + 300_000, Date.now(), Date.now() + 60_000, 0, 2 ** 53 - 1, 8.64e15]) };
    default:
      return {};
  }
}

/** Kinds the fuzzer aims at, weighted towards the ones with the most logic. */
export const FUZZ_KINDS: readonly string[] = [
  "promise.get",
  "promise.create",
  "promise.create",
  "promise.create",
  "promise.settle",
  "promise.settle",
  "promise.register_callback",
  "promise.register_listener",
  "promise.search",
  "task.get",
  "task.create",
  "task.create",
  "task.acquire",
  "task.acquire",
  "task.release",
  "task.suspend",
  "task.suspend",
  "task.fulfill",
  "task.fulfill",
  "task.fence",
  "task.fence",
  "task.heartbeat",
  "task.halt",
  "task.continue",
  "task.search",
  "schedule.get",
  "schedule.create",
  "schedule.create",
  "schedule.delete",
  "schedule.search",
  "debug.tick",
  "debug.start",
  "debug.stop",
];

const ODD_KINDS = ["", " ", "promise.creat", "PROMISE.CREATE", "promise.create ", "promise", "promise.", ".create", "__proto__", "constructor", "toString", "hasOwnProperty", "debug.", "task.*", "promise.create\u0000", "x".repeat(10_000)];

// ---------------------------------------------------------------------------------------------
// Mutations

type Json = unknown;

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Paths to every object/array slot in a value (parent + key). */
function slots(root: Json): { parent: Record<string, unknown> | unknown[]; key: string | number }[] {
  const out: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (v: Json, depth: number) => {
    if (depth > 8 || v === null || typeof v !== "object") return;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        out.push({ parent: v, key: i });
        walk(v[i], depth + 1);
      }
    } else {
      for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
        out.push({ parent: v as Record<string, unknown>, key: k });
        walk(child, depth + 1);
      }
    }
  };
  walk(root, 0);
  return out;
}

function mutateStructure(rng: Rng, envelope: Record<string, unknown>): string {
  const targets = slots(envelope);
  if (targets.length === 0) return "none";
  const { parent, key } = rng.pick(targets);
  const p = parent as Record<string | number, unknown>;
  switch (rng.int(9)) {
    case 0:
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete p[key];
      return `delete ${String(key)}`;
    case 1:
    case 2:
      setOwn(p, key, nastyValue(rng));
      return `replace ${String(key)}`;
    case 3:
      setOwn(p, key, [p[key]]);
      return `wrap ${String(key)}`;
    case 4:
      setOwn(p, key, typeof p[key] === "string" ? rng.pick(NASTY_NUMBERS) : typeof p[key] === "number" ? String(p[key]) : JSON.stringify(p[key]));
      return `retype ${String(key)}`;
    case 5: {
      const obj = typeof p[key] === "object" && p[key] !== null && !Array.isArray(p[key]) ? (p[key] as Record<string, unknown>) : (p as Record<string, unknown>);
      setOwn(obj, rng.pick(["__proto__", "constructor", "prototype", nastyString(rng).slice(0, 30)]), nastyValue(rng));
      return "add key";
    }
    case 6:
      setOwn(p, key, typeof p[key] === "number" ? rng.pick(NASTY_NUMBERS) : nastyString(rng));
      return `nasty scalar ${String(key)}`;
    case 7:
      setOwn(p, key, deepNest(rng, rng.range(50, 1000)));
      return `deep ${String(key)}`;
    default:
      envelope["kind"] = rng.chance(0.5) ? rng.pick(ODD_KINDS) : rng.pick(FUZZ_KINDS);
      return "kind";
  }
}

function mutateText(rng: Rng, text: string): { body: string | Uint8Array; what: string } {
  switch (rng.int(9)) {
    case 0: {
      const at = rng.int(text.length + 1);
      return { body: text.slice(0, at), what: "truncate" };
    }
    case 1: {
      const at = rng.int(text.length);
      const len = rng.range(1, 10);
      return { body: text.slice(0, at) + text.slice(at + len), what: "delete span" };
    }
    case 2: {
      const at = rng.int(text.length);
      return { body: text.slice(0, at) + rng.pick(["{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "\\ud800", "\u0000", " ", "null"]) + text.slice(at), what: "insert token" };
    }
    case 3: {
      // Replace one number literal with something JSON cannot carry, or an overflow.
      const numbers = [...text.matchAll(/-?\d+(\.\d+)?([eE][+-]?\d+)?/g)];
      if (numbers.length === 0) return { body: text, what: "none" };
      const m = rng.pick(numbers);
      return { body: text.slice(0, m.index) + rng.pick(RAW_NUMBERS) + text.slice(m.index! + m[0].length), what: "raw number" };
    }
    case 4: {
      // Invalid UTF-8 bytes inside the text.
      const bytes = Buffer.from(text, "utf8");
      const at = rng.int(bytes.length + 1);
      const junk = Buffer.from(Array.from({ length: rng.range(1, 6) }, () => rng.pick([0x80, 0xbf, 0xc0, 0xc1, 0xe0, 0xed, 0xf5, 0xff, 0xfe, 0x00])));
      return { body: Buffer.concat([bytes.subarray(0, at), junk, bytes.subarray(at)]), what: "invalid utf-8" };
    }
    case 5:
      return { body: "\uFEFF" + text, what: "bom" };
    case 6:
      return { body: text + rng.pick(["x", "}", "{}", "\n\n\n", "\u0000", " ".repeat(1000)]), what: "trailing" };
    case 7: {
      // A duplicated key: the last one wins in JSON.parse.
      return { body: text.replace(/^\{/, `{"kind":${JSON.stringify(rng.pick(ODD_KINDS))},`), what: "duplicate kind" };
    }
    default: {
      const at = rng.int(text.length);
      const code = text.charCodeAt(at) ^ (1 << rng.int(7));
      return { body: text.slice(0, at) + String.fromCharCode(code) + text.slice(at + 1), what: "bit flip" };
    }
  }
}

function garbage(rng: Rng): { body: string | Uint8Array; what: string } {
  switch (rng.int(10)) {
    case 0:
      return { body: Buffer.from(Array.from({ length: rng.int(2000) }, () => rng.int(256))), what: "random bytes" };
    case 1:
      return { body: "", what: "empty" };
    case 2:
      return { body: rng.pick(["null", "[]", "1", "\"str\"", "true", "{}", "[{}]", "{\"kind\":null}", "{\"kind\":\"promise.get\"}", "{\"kind\":\"promise.get\",\"head\":[]}"]), what: "non-envelope JSON" };
    case 3: {
      const depth = rng.range(1000, 100_000);
      const open = rng.chance(0.5) ? "[" : "{\"a\":";
      const close = open === "[" ? "]" : "}";
      return { body: open.repeat(depth) + (rng.chance(0.8) ? "1" + close.repeat(depth) : ""), what: `deep ${depth}` };
    }
    case 4:
      return { body: `{"kind":"promise.get","head":{"corrId":"c","version":"${PROTOCOL_VERSION}"},"data":{"id":"${"x".repeat(rng.range(10, 1_000_000))}"}}`, what: "huge id" };
    case 5: {
      const keys = rng.range(1000, 50_000);
      const data = Array.from({ length: keys }, (_, i) => `"k${i}":${i}`).join(",");
      return { body: `{"kind":"promise.search","head":{"corrId":"c","version":"${PROTOCOL_VERSION}"},"data":{${data}}}`, what: `${keys} keys` };
    }
    case 6:
      return { body: randomUnicode(rng, rng.range(1, 500)), what: "unicode soup" };
    case 7:
      return { body: `{"kind":"promise.create","head":{"corrId":"c","version":"${PROTOCOL_VERSION}"},"data":{"id":"a\\ud800","timeoutAt":1e400}}`, what: "overflowing timeoutAt" };
    case 8:
      return { body: `{"kind":"promise.create","head":{"corrId":${JSON.stringify(nastyString(rng))},"version":"${PROTOCOL_VERSION}","auth":${JSON.stringify(nastyValue(rng))},"resonate:debug_time":${rng.pick(["1.5", "-1", "1e309", "\"1\"", "null", "9007199254740993"])}},"data":{"id":"x","timeoutAt":1}}`, what: "odd head" };
    default:
      return { body: `{"kind":"promise.create","data":{},"head":{"corrId":"c","version":${JSON.stringify(rng.pick(["2026-04-01 ", "2025-01-01", "", "2026-04-01\u0000"]))}}}`, what: "bad version" };
  }
}

const CONTENT_TYPES: readonly (string | undefined)[] = [
  "application/json",
  "application/json",
  "application/json",
  undefined,
  "text/plain",
  "application/json; charset=utf-8",
  "application/json; charset=latin1",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/octet-stream",
  "a/b/c",
  ";;;",
  "application/json\u0001",
  "*/*",
];

export interface FuzzRequest {
  body: string | Uint8Array;
  headers: Record<string, string>;
  /** How it was made, for the failure report. */
  what: string;
  /** The envelope before text mutations, when there was one (for corrId/kind checks). */
  sentKind?: string;
  sentCorrId?: string;
}

function ct(headers: Record<string, string>): string {
  const type = headers["content-type"];
  return type === "application/json" ? "" : ` (content-type ${JSON.stringify(type ?? null)})`;
}

/** One request for POST /. */
export function generateRequest(rng: Rng, state: FuzzState, n: number): FuzzRequest {
  const contentType = rng.chance(0.85) ? "application/json" : rng.pick(CONTENT_TYPES);
  const headers: Record<string, string> = {};
  if (contentType !== undefined) {
    // fetch refuses header values with control characters; keep those in the text-level fuzz only.
    if (!/[\u0000-\u001f]/.test(contentType)) headers["content-type"] = contentType;
  }
  const roll = rng.next();
  if (roll < 0.1) {
    const g = garbage(rng);
    return { ...g, headers, what: `garbage: ${g.what}${ct(headers)}` };
  }
  const kind = rng.pick(FUZZ_KINDS);
  const env: Record<string, unknown> = {
    kind,
    head: { corrId: `fz-${n}`, version: PROTOCOL_VERSION, ...(rng.chance(0.2) && { "resonate:debug_time": rng.pick([BASE_TIME, BASE_TIME + 60_000, Date.now()]) }), ...(rng.chance(0.1) && { "resonate:origin": "x" }) },
    data: validData(rng, state, kind),
  };
  if (roll < 0.45) {
    return { body: JSON.stringify(env), headers, what: `valid ${kind}${ct(headers)}`, sentKind: kind, sentCorrId: `fz-${n}` };
  }
  const mutated = clone(env);
  const steps: string[] = [];
  for (let i = rng.range(1, 3); i > 0; i--) steps.push(mutateStructure(rng, mutated));
  const text = JSON.stringify(mutated);
  if (roll < 0.85) {
    const head = mutated["head"] as Record<string, unknown> | undefined;
    return {
      body: text,
      headers,
      what: `mutated ${kind}: ${steps.join(", ")}${ct(headers)}`,
      ...(typeof mutated["kind"] === "string" && { sentKind: mutated["kind"] }),
      ...(head && typeof head === "object" && !Array.isArray(head) && typeof head["corrId"] === "string" && { sentCorrId: head["corrId"] }),
    };
  }
  const t = mutateText(rng, rng.chance(0.5) ? text : JSON.stringify(env));
  return { body: t.body, headers, what: `text-mutated ${kind}: ${t.what}${ct(headers)}` };
}

// ---------------------------------------------------------------------------------------------
// Checking answers

const ENVELOPE_STATUSES = new Set([200, 300, 400, 403, 404, 409, 422]);

export interface Verdict {
  ok: boolean;
  status: number;
  reason?: string;
}

function bodySize(body: string | Uint8Array): number {
  return typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
}

/** What a correct server may answer to this POST / (spec §2.3, §2.5). */
export function judge(request: FuzzRequest, status: number, contentType: string | null, text: string, bodyLimit: number): Verdict {
  const size = bodySize(request.body);
  if (size > bodyLimit) return status === 413 ? { ok: true, status } : { ok: false, status, reason: `body of ${size} bytes over the limit answered ${status}, expected 413` };
  if (!ENVELOPE_STATUSES.has(status)) {
    // The envelope's message (or the framework's) names the problem better than the whole body.
    let message = text.slice(0, 300);
    try {
      const parsed = JSON.parse(text) as { data?: unknown; message?: unknown; code?: unknown };
      if (typeof parsed.data === "string") message = parsed.data;
      else if (typeof parsed.message === "string") message = `${String(parsed.code ?? "")} ${parsed.message}`.trim();
    } catch {
      // plain text
    }
    return { ok: false, status, reason: `HTTP ${status}: ${message}` };
  }
  if (!contentType?.includes("application/json")) return { ok: false, status, reason: `content-type ${contentType}` };
  let env: any;
  try {
    env = JSON.parse(text);
  } catch {
    return { ok: false, status, reason: `body is not JSON: ${text.slice(0, 200)}` };
  }
  if (!env || typeof env !== "object" || typeof env.kind !== "string" || !env.head || typeof env.head.corrId !== "string") {
    return { ok: false, status, reason: `not an envelope: ${text.slice(0, 200)}` };
  }
  if (env.head.status !== status) return { ok: false, status, reason: `head.status ${env.head.status} ≠ HTTP ${status}` };
  if (env.head.version !== PROTOCOL_VERSION) return { ok: false, status, reason: `head.version ${env.head.version}` };
  if (status >= 400 && (typeof env.data !== "string" || env.data.length === 0)) return { ok: false, status, reason: `error without a message: ${text.slice(0, 200)}` };
  if (status < 400 && (env.data === null || typeof env.data !== "object")) return { ok: false, status, reason: `success without data object: ${text.slice(0, 200)}` };
  if (request.sentKind !== undefined && env.kind !== request.sentKind) return { ok: false, status, reason: `kind ${JSON.stringify(env.kind).slice(0, 60)} ≠ sent ${JSON.stringify(request.sentKind).slice(0, 60)}` };
  if (request.sentCorrId !== undefined && env.head.corrId !== request.sentCorrId) {
    return { ok: false, status, reason: `corrId ${JSON.stringify(env.head.corrId).slice(0, 60)} ≠ sent ${JSON.stringify(request.sentCorrId).slice(0, 60)}` };
  }
  return { ok: true, status };
}

// ---------------------------------------------------------------------------------------------
// The run

export interface FuzzOptions {
  url: string;
  seed: number;
  /** Number of POST / requests. */
  count: number;
  /** Number of GET /poll/… probes. */
  pollCount: number;
  /** Number of raw TCP garbage connections. */
  rawCount: number;
  bodyLimit: number;
  /** Check /health every this many requests. */
  healthEvery?: number;
  /** Stop early once this much time has passed (POST / gets 80 % of it), whatever the counts. */
  budgetMs?: number;
  /** Requests whose body matches are generated (the sequence stays the same) but not sent. */
  exclude?: RegExp | undefined;
  /** Requests in flight at once (default 1: exact replay of a seed). */
  concurrency?: number;
  /** Stop at the first this many failures. */
  maxFailures?: number;
  /** Called every 500 requests. */
  progress?: (done: number, stats: FuzzStats) => void;
  /** Returns a reason when the server died (e.g. the child process exited). */
  isDead?: () => string | undefined;
}

export interface FuzzFailure {
  n: number;
  what: string;
  status: number;
  reason: string;
  body: string;
}

export interface FuzzStats {
  seed: number;
  /** Failures by kind of problem: how many, and the first example. */
  groups: Map<string, { count: number; first: FuzzFailure }>;
  posts: number;
  polls: number;
  raws: number;
  byStatus: Record<string, number>;
  byPollStatus: Record<string, number>;
  failures: FuzzFailure[];
  ms: number;
  /** The slowest requests: duration and what they were. */
  slowest: { ms: number; what: string }[];
}

function preview(body: string | Uint8Array): string {
  const text = typeof body === "string" ? body : Buffer.from(body).toString("latin1");
  return text.length > 300 ? `${text.slice(0, 300)}… (${text.length} chars)` : text;
}

const POLL_SEGMENTS: readonly string[] = [
  "workers",
  "w1",
  "",
  "%ZZ",
  "%",
  "%00",
  "%FF",
  "%E0%A4%A",
  "%ED%A0%80",
  "%F0%9F%98%80",
  "%2F",
  "..",
  ".",
  "%2E%2E",
  "a%20b",
  "x".repeat(100),
  "x".repeat(101),
  "x".repeat(5000),
  "%41".repeat(40),
  "é",
  "\u00ff",
];

function pollPath(rng: Rng): { path: string; method: string; headers: Record<string, string> } {
  const seg = () => (rng.chance(0.7) ? rng.pick(POLL_SEGMENTS) : encodeURIComponent(randomUnicode(rng, rng.range(1, 20)).replace(/[\uD800-\uDFFF]/g, "x")));
  const shapes = [
    () => `/poll/${seg()}/${seg()}`,
    () => `/poll/${seg()}`,
    () => `/poll/${seg()}/${seg()}/${seg()}`,
    () => `/poll//${seg()}`,
    () => `/poll/${seg()}/${seg()}?${seg()}=${seg()}`,
    () => `/poll/${seg()}/${seg()}#${seg()}`,
    () => `/${seg()}`,
    () => `/poll`,
    () => `/poll/`,
  ];
  let path = rng.pick(shapes)();
  // node's http client refuses some raw characters in paths; escape what it would refuse.
  path = path.replace(/[^\x21-\x7e]/g, (c) => encodeURIComponent(c));
  const method = rng.chance(0.85) ? "GET" : rng.pick(["POST", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH"]);
  const headers: Record<string, string> = {};
  if (rng.chance(0.5)) headers["accept"] = rng.pick(["text/event-stream", "*/*", "application/json", "text/event-stream;q=0"]);
  if (rng.chance(0.2)) headers["authorization"] = rng.pick(["Bearer ", "Bearer x.y.z", "Basic abc", "Bearer " + "a".repeat(5000)]);
  if (rng.chance(0.1)) headers["last-event-id"] = "42";
  return { path, method, headers };
}

const POLL_STATUSES = new Set([200, 400, 401, 404, 405, 406, 414, 503]);

/** Sends raw bytes on a fresh TCP connection and waits until the server answers or closes. */
function rawExchange(url: string, bytes: Uint8Array, timeoutMs = 3000): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolveRaw) => {
    const socket = net.connect(Number(port), hostname);
    let received = "";
    const finish = (why: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolveRaw(`${why} ${received.split("\r\n")[0] ?? ""}`);
    };
    const timer = setTimeout(() => finish("timeout"), timeoutMs);
    socket.on("connect", () => socket.end(bytes));
    socket.on("data", (d) => {
      received += d.toString("latin1");
    });
    socket.on("error", () => finish("error"));
    socket.on("close", () => finish("closed"));
  });
}

function rawGarbage(rng: Rng): Uint8Array {
  switch (rng.int(6)) {
    case 0:
      return Buffer.from(Array.from({ length: rng.range(1, 3000) }, () => rng.int(256)));
    case 1:
      return Buffer.from(`GET /poll/${"%".repeat(rng.range(1, 50))}/x HTTP/1.1\r\nHost: x\r\n\r\n`);
    case 2:
      return Buffer.from(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${rng.pick(["-1", "abc", "99999999999999999999", "10, 20", "1e3"])}\r\n\r\n{}`);
    case 3:
      return Buffer.from(`POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${rng.pick(["zz\r\n", "5\r\nab", "ffffffffffffffff\r\n", "0\r\n\r\n"])}`);
    case 4:
      return Buffer.from(`GET /poll/g/i HTTP/1.1\r\nHost: x\r\n${"X-Junk: " + "a".repeat(rng.range(100, 20000))}\r\n\r\n`);
    default:
      return Buffer.from(`${rng.pick(["GET", "BREW", "G\u0000T", "POST"])} ${rng.pick(["/", "*", "//", "/health", "http://evil/", "/\u00ff"])} HTTP/${rng.pick(["1.1", "1.0", "2.0", "9"])}\r\n\r\n`, "latin1");
  }
}

/** Runs the fuzz: POST / requests, then /poll probes and raw connections, checking as it goes. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzStats> {
  const rng = new Rng(options.seed);
  const state = new FuzzState();
  const started = Date.now();
  const stats: FuzzStats = { seed: options.seed, groups: new Map(), posts: 0, polls: 0, raws: 0, byStatus: {}, byPollStatus: {}, failures: [], ms: 0, slowest: [] };
  const maxFailures = options.maxFailures ?? 500;
  const healthEvery = options.healthEvery ?? 100;
  const fail = (f: FuzzFailure) => {
    stats.failures.push(f);
    const key = signature(f);
    const group = stats.groups.get(key);
    if (group) group.count++;
    else stats.groups.set(key, { count: 1, first: f });
  };
  const dead = () => options.isDead?.();

  // Batches of `concurrency` requests: generated in order from the state learned so far, sent
  // together, learned from in order. With concurrency 1 a seed replays exactly.
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const send = async (n: number, request: FuzzRequest): Promise<{ status: number; text?: string; took: number }> => {
    const t0 = performance.now();
    try {
      const res = await fetch(`${options.url}/`, { method: "POST", body: request.body, headers: request.headers, signal: AbortSignal.timeout(15_000) });
      const text = await res.text();
      const verdict = judge(request, res.status, res.headers.get("content-type"), text, options.bodyLimit);
      if (!verdict.ok) fail({ n, what: request.what, status: res.status, reason: verdict.reason!, body: preview(request.body) });
      return { status: res.status, ...(verdict.ok && { text }), took: performance.now() - t0 };
    } catch (error) {
      // Over the limit, the server may answer 413 and close while the body is still being sent.
      if (bodySize(request.body) > options.bodyLimit && !dead()) return { status: 413, took: performance.now() - t0 };
      fail({ n, what: request.what, status: 0, reason: `request failed: ${(error as Error).message}${dead() ? ` (${dead()})` : ""}`, body: preview(request.body) });
      return { status: 0, took: performance.now() - t0 };
    }
  };
  let nextHealth = healthEvery;
  let nextProgress = 500;
  const budget = options.budgetMs ?? Infinity;
  const over = (share: number) => Date.now() - started > budget * share;
  for (let n = 0; n < options.count && stats.failures.length < maxFailures && !dead() && !over(0.8); ) {
    const batch: FuzzRequest[] = [];
    for (let i = 0; i < concurrency && n + i < options.count; i++) batch.push(generateRequest(rng, state, n + i));
    const excluded = (r: FuzzRequest) => options.exclude !== undefined && typeof r.body === "string" && options.exclude.test(r.body);
    const results: { status: number; text?: string; took: number }[] = await Promise.all(batch.map((request, i) => (excluded(request) ? { status: -1, took: 0 } : send(n + i, request))));
    results.forEach((result, i) => {
      if (result.status === -1) {
        stats.byStatus["excluded"] = (stats.byStatus["excluded"] ?? 0) + 1;
        return;
      }
      if (result.status === 200 && result.text !== undefined) state.learn(JSON.parse(result.text));
      if (stats.slowest.length < 5 || result.took > stats.slowest[stats.slowest.length - 1]!.ms) {
        stats.slowest.push({ ms: Math.round(result.took), what: batch[i]!.what });
        stats.slowest.sort((a, b) => b.ms - a.ms);
        stats.slowest.length = Math.min(stats.slowest.length, 5);
      }
      stats.posts++;
      stats.byStatus[result.status] = (stats.byStatus[result.status] ?? 0) + 1;
    });
    n += batch.length;
    if (n >= nextHealth) {
      nextHealth += healthEvery;
      const h = await health(options.url).catch((e: Error) => `error ${e.message}`);
      if (h !== 200) fail({ n, what: "GET /health", status: typeof h === "number" ? h : 0, reason: `health answered ${h}${dead() ? ` (${dead()})` : ""}`, body: "" });
    }
    if (n >= nextProgress) {
      nextProgress += 500;
      options.progress?.(n, stats);
    }
  }

  for (let n = 0; n < options.pollCount && stats.failures.length < maxFailures && !dead() && !over(0.92); n++) {
    const { path, method, headers } = pollPath(rng);
    const res = await peek(options.url, path, { method, headers });
    stats.polls++;
    if ("error" in res) {
      fail({ n, what: `${method} ${path.slice(0, 200)}`, status: 0, reason: res.error, body: "" });
      continue;
    }
    stats.byPollStatus[res.status] = (stats.byPollStatus[res.status] ?? 0) + 1;
    if (!POLL_STATUSES.has(res.status)) fail({ n, what: `${method} ${path.slice(0, 200)}`, status: res.status, reason: `unexpected ${res.status}: ${res.body.slice(0, 200)}`, body: "" });
    if (res.status === 200 && method === "GET" && path.startsWith("/poll/") && !String(res.headers["content-type"]).startsWith("text/event-stream")) {
      fail({ n, what: `${method} ${path.slice(0, 200)}`, status: 200, reason: `200 without text/event-stream: ${res.headers["content-type"]}`, body: "" });
    }
  }

  for (let n = 0; n < options.rawCount && stats.failures.length < maxFailures && !dead() && !over(1); n++) {
    const bytes = rawGarbage(rng);
    const outcome = await rawExchange(options.url, bytes);
    stats.raws++;
    if (/ 5\d\d /.test(outcome)) fail({ n, what: "raw TCP", status: 500, reason: outcome, body: preview(bytes) });
  }

  const h = await health(options.url).catch((e: Error) => `error ${e.message}`);
  if (h !== 200) fail({ n: -1, what: "final GET /health", status: 0, reason: `health answered ${h}${dead() ? ` (${dead()})` : ""}`, body: "" });
  stats.ms = Date.now() - started;
  return stats;
}

/** Groups failures that are the same problem: status plus the reason without ids and numbers. */
function signature(f: FuzzFailure): string {
  const reason = f.reason.replace(/\d+/g, "N").slice(0, 90);
  const ctype = /content-type ("[^"]*"|null)/.exec(f.what)?.[0] ?? "";
  return `${f.status} ${reason}${f.status === 415 ? ` ${ctype}` : ""}`;
}

export function formatStats(stats: FuzzStats): string {
  const lines = [
    `seed ${stats.seed} (replay: FUZZ_SEED=${stats.seed})`,
    `POST / requests: ${stats.posts} in ${(stats.ms / 1000).toFixed(1)} s; statuses ${JSON.stringify(stats.byStatus)}`,
    `GET /poll probes: ${stats.polls}; statuses ${JSON.stringify(stats.byPollStatus)}; raw TCP garbage connections: ${stats.raws}`,
    `slowest: ${stats.slowest.map((s) => `${s.ms} ms ${s.what}`).join("; ")}`,
    `failures: ${stats.failures.length}`,
  ];
  for (const [key, { count, first: f }] of stats.groups) {
    lines.push(`  ${count}× ${key}\n      first: #${f.n} [${f.what}] → ${f.status}: ${f.reason.slice(0, 400)}\n      body: ${f.body}`);
  }
  return lines.join("\n");
}
