import { isRecord } from "./schemas";

/**
 * The channel: an optional connection between a client and our server that is cheaper than one
 * HTTP/1.1 request per protocol call (issue 17). Plain HTTP (POST / and GET /poll/…) stays the
 * protocol and the default; the official SDK never sees the channel.
 *
 * One WebSocket, opened at GET /ws/<group>/<pid>, carries both directions of one process:
 * - client → server: request envelopes, exactly the bodies of POST /;
 * - server → client: their answers, exactly the bodies POST / would answer with, and the messages
 *   of the poll stream of (group, pid), exactly the `data:` of GET /poll/<group>/<pid>'s events.
 *
 * Why it is cheaper: on this kind of machine a syscall costs tens of microseconds, and HTTP/1.1
 * needs a write per answer and per request on every connection. On the channel everything one side
 * has for the other in one turn of its event loop leaves as one text frame, one write: its items
 * are separated by "\n" (a JSON text written by JSON.stringify never holds a raw newline). A server
 * item starts with a tag: "a" for an answer, "m" for a message, "t" for a task acquired on the
 * process's behalf (below).
 *
 * Eager acquire. A worker may open its channel with `?slots=<n>&ttl=<ms>` (eagerQuery):
 * n is how many more tasks it can start now (its free slots). While the server has room left in
 * that count, an execute for the worker is not sent as a message: the server sends the task.acquire
 * the worker would send (pid, the execute's version, that ttl) through the same handler and group
 * commit, and sends its answer as a "t" item: the answer envelope of that task.acquire, exactly as
 * "a" would carry it, for a request the worker never sent. The worker starts the function on
 * receipt: one round trip (a frame to the worker, its acquire back, the answer) fewer between the
 * dispatch and the start. A refused acquire (the task moved on) sends nothing, as the worker's own
 * acquire would have been refused; a failed one (no commit) falls back to the execute message.
 * Beyond the room, executes are sent as messages, for the worker to queue.
 *
 * The room is the worker's to say, as credit: it sends an "s" item, `s{"free":f,"seen":k}`, whenever
 * its free slots change: f slots free once the k "t" items it has read on this socket are counted.
 * The server's room is then f − (t items sent on this socket − k), exact whatever the store and
 * however many replicas (executes forwarded from another replica always come as messages).
 * A client item is a request envelope (it starts with "{") or an "s" item.
 */

/** The WebSocket subprotocol; a client that names another one is refused. */
export const CHANNEL_SUBPROTOCOL = "resonate-channel.2026-04-01";

export const CHANNEL_ANSWER = "a";
export const CHANNEL_MESSAGE = "m";
export const CHANNEL_ACQUIRED = "t";
export const CHANNEL_SLOTS = "s";

/** A worker's request for eager acquires: `slots` free now, leases of `ttl` ms. */
export interface EagerAcquire {
  slots: number;
  ttl: number;
}

/** The most slots an "s" item or the query may state. */
export const MAX_EAGER_SLOTS = 100_000;

/** A worker's report of its room: `free` slots once `seen` acquired tasks ("t" items) are counted. */
export interface SlotsReport {
  free: number;
  seen: number;
}

export const slotsItem = (report: SlotsReport): string => CHANNEL_SLOTS + JSON.stringify(report);

/** The report of an "s" item (without its tag), or undefined when it is malformed. */
export function parseSlotsReport(json: string): SlotsReport | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (!isRecord(value)) return undefined;
  const { free, seen } = value;
  const count = (n: unknown, max: number) => typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= max;
  return count(free, MAX_EAGER_SLOTS) && count(seen, Number.MAX_SAFE_INTEGER) ? { free: free as number, seen: seen as number } : undefined;
}

/** The channel's path for (group, pid), as GET /poll/<group>/<pid>. */
export const channelPath = (group: string, pid: string): string =>
  `/ws/${encodeURIComponent(group)}/${encodeURIComponent(pid)}`;

/** The query that asks for eager acquires, to append to the channel's path. */
export const eagerQuery = (eager: EagerAcquire): string => `?slots=${eager.slots}&ttl=${eager.ttl}`;

/**
 * The eager-acquire request of a channel path's query: undefined when it asks for none, an error
 * text when it is malformed (slots a whole number from 0 to 100,000, ttl one from 1 to 2^31 − 1).
 */
export function parseEagerAcquire(query: URLSearchParams): EagerAcquire | undefined | string {
  const slots = query.get("slots");
  const ttl = query.get("ttl");
  if (slots === null && ttl === null) return undefined;
  if (slots === null || ttl === null) return "slots and ttl go together";
  const n = wholeNumber(slots, 0, MAX_EAGER_SLOTS);
  const t = wholeNumber(ttl, 1, 2 ** 31 - 1);
  if (n === undefined) return `slots must be a whole number from 0 to ${MAX_EAGER_SLOTS}, not '${slots}'`;
  if (t === undefined) return `ttl must be a whole number of ms from 1 to ${2 ** 31 - 1}, not '${ttl}'`;
  return { slots: n, ttl: t };
}

function wholeNumber(text: string, min: number, max: number): number | undefined {
  if (!/^[0-9]{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= min && n <= max ? n : undefined;
}

/** The items of one frame. */
export const frameItems = (frame: string): string[] => frame.split("\n").filter((item) => item !== "");

/**
 * The most bytes of items a frame carries, unless one item alone is larger: well under the server's
 * default body limit (2 MiB), which also bounds a frame, so that a burst of large requests becomes
 * several frames instead of one the server refuses.
 */
export const MAX_FRAME_BYTES = 1024 * 1024;

/**
 * Collects the items one turn of the event loop produces and hands them to `send` as one frame at
 * the end of that turn: after the current microtasks (the answers of one commit resolve together),
 * before any I/O is read again. Items beyond `maxFrameBytes` start the next frame.
 */
export class FrameBatcher {
  private items: string[] = [];
  private bytes = 0;
  private scheduled = false;

  /**
   * `beforeFlush` runs at the end of the turn, before the frame leaves: items it pushes go in that
   * frame (the SDK adds its slots report there, after whatever the turn changed).
   */
  constructor(
    private readonly send: (frame: string) => void,
    private readonly maxFrameBytes = MAX_FRAME_BYTES,
    private readonly beforeFlush?: () => void,
  ) {}

  /** Makes sure the end of this turn flushes (and runs `beforeFlush`), even with nothing pushed. */
  touch(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    process.nextTick(this.flush);
  }

  push(item: string): void {
    const size = Buffer.byteLength(item) + 1;
    if (this.items.length > 0 && this.bytes + size > this.maxFrameBytes) this.emit();
    this.items.push(item);
    this.bytes += size;
    if (this.scheduled) return;
    this.scheduled = true;
    process.nextTick(this.flush);
  }

  /** Drops what has not left yet (the connection is gone). */
  clear(): void {
    this.items = [];
    this.bytes = 0;
  }

  private readonly flush = (): void => {
    this.beforeFlush?.(); // still scheduled: what it pushes joins this frame
    this.scheduled = false;
    if (this.items.length > 0) this.emit();
  };

  private emit(): void {
    const frame = this.items.join("\n");
    this.items = [];
    this.bytes = 0;
    this.send(frame);
  }
}
