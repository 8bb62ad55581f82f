import fs from "node:fs";

// Hop tracing, a bench diagnostic (off by default): with RESONATE_TRACE_HOPS=<file> the server
// appends one line per hop of a request or message — when a request reached the protocol handler
// ("recv"), when its operation started inside its group-commit transaction ("run"), when its answer
// was ready after the commit ("answered"), and when a message was written to a poll stream
// ("write") — so that the bench can attribute an invocation's latency hop by hop
// (packages/bench/src/hops). Line format, tab-separated: epoch ms (sub-ms), hop, kind, id.
// The clock is performance.timeOrigin + performance.now(), the one every bench process uses, so
// records of different processes on one machine can be subtracted.
//
// Off, every hook is one boolean check. On, lines are buffered and written every 250 ms (and at
// exit) so that no request waits for the file.

const file = process.env.RESONATE_TRACE_HOPS;
export const hopTraceOn = file !== undefined && file !== "";

let lines: string[] = [];
let fd: number | undefined;

function flush(): void {
  if (lines.length === 0) return;
  fd ??= fs.openSync(file!, "a");
  fs.writeSync(fd, lines.join(""));
  lines = [];
}

if (hopTraceOn) {
  setInterval(flush, 250).unref();
  process.on("exit", flush);
}

/** Records `hop` of the request or message `kind` for `id` (a promise or task id) now. */
export function traceHop(hop: string, kind: string, id: unknown): void {
  lines.push(`${performance.timeOrigin + performance.now()}\t${hop}\t${kind}\t${String(id)}\n`);
}

/** The id a request is about: data.id for most kinds, data.awaited for register_listener/callback. */
export function requestId(data: unknown): unknown {
  const d = data as { id?: unknown; awaited?: unknown } | null;
  return d?.id ?? d?.awaited ?? "";
}

const MESSAGE_ID = /^\{"kind":"(\w+)".*?"data":\{"(?:task|promise)":\{"id":"((?:[^"\\]|\\.)*)"/;

/** Records that a serialised execute or unblock message was written to a poll stream. */
export function traceMessageWrite(message: string): void {
  const m = MESSAGE_ID.exec(message);
  if (m) traceHop("write", m[1]!, m[2]!);
}
