// Client-side hop timestamps for `pnpm bench --hops` (see src/hops/): imported first by the SDK
// children; does nothing unless HOP_TRACE_DIR is set. It watches what each SDK uses from outside,
// without touching the SDK:
//   - our SDK (Node 20, node:http): a POST's body at req.end() ("send"), and through the http
//     client's diagnostics channel its response head ("answer") and the poll stream's chunks ("read");
//   - the official SDK (Node 22, fetch): a wrapper around global fetch — a POST's body ("send"),
//     undici's channels for the body written to the socket ("wire") and the answer's head parsed
//     ("head"), fetch resolving ("answer"), and the poll stream's body chunks as they leave undici, before
//     the SDK's EventSource parses them ("read"); its logger's "message received" is "deliver"
//     (official-common.mjs).
// One line per hop, tab-separated: epoch ms (sub-ms, the clock of every bench process), hop, kind,
// id, in HOP_TRACE_DIR/<pid>.tsv, buffered and written every 250 ms and at exit.
import { AsyncLocalStorage } from "node:async_hooks";
import dc from "node:diagnostics_channel";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";

const dir = process.env.HOP_TRACE_DIR;
let lines = [];

/** Records `hop` of `kind` for `id` now (a no-op unless HOP_TRACE_DIR is set). */
export function traceHop(hop, kind, id) {
  if (dir) lines.push(`${performance.timeOrigin + performance.now()}\t${hop}\t${kind}\t${id}\n`);
}

/** kind and id of a protocol request body (data.id, or data.awaited for register_listener). */
function about(body) {
  try {
    const r = JSON.parse(body);
    return { kind: r.kind, id: r.data?.id ?? r.data?.awaited ?? "" };
  } catch {
    return { kind: "?", id: "" };
  }
}

const MESSAGE = /^\{"kind":"(\w+)".*?"data":\{"(?:task|promise)":\{"id":"((?:[^"\\]|\\.)*)"/;

/** Records a "read" for every message that starts in this chunk of a poll stream. */
function readChunk(text) {
  const t = performance.timeOrigin + performance.now();
  for (const part of text.split("data: ").slice(1)) {
    const m = MESSAGE.exec(part);
    if (m) lines.push(`${t}\tread\t${m[1]}\t${m[2]}\n`);
  }
}

if (dir) {
  const fd = fs.openSync(path.join(dir, `${process.pid}.tsv`), "a");
  const flush = () => {
    if (lines.length === 0) return;
    fs.writeSync(fd, lines.join(""));
    lines = [];
  };
  setInterval(flush, 250).unref();
  process.on("exit", flush);

  // node:http (our SDK). A POST's body is stamped when the SDK hands it to end(); the
  // request-start channel would be too late (it fires once the request is on the socket).
  const posts = new WeakMap();
  const end = http.ClientRequest.prototype.end;
  http.ClientRequest.prototype.end = function tracedEnd(body, ...rest) {
    if (this.method === "POST" && typeof body === "string") {
      const a = about(body);
      posts.set(this, a);
      traceHop("send", a.kind, a.id);
    }
    return end.call(this, body, ...rest);
  };
  dc.subscribe("http.client.response.finish", ({ request, response }) => {
    const a = posts.get(request);
    if (a) return traceHop("answer", a.kind, a.id);
    // Added before the SDK's own listener (this channel runs before the 'response' event), so the
    // chunk is stamped before the SDK handles it.
    if (request.path?.startsWith("/poll/")) response.on("data", (chunk) => readChunk(String(chunk)));
  });

  // fetch (the official SDK, Node 22). Inside fetch, undici's own channels say when the body has
  // gone to the socket ("wire") and when the answer's head was parsed ("head"); the request they
  // name is undici's, so the fetch call's kind and id reach them through an AsyncLocalStorage.
  const calls = new AsyncLocalStorage();
  const undiciPosts = new WeakMap();
  dc.subscribe("undici:request:create", ({ request }) => {
    const a = calls.getStore();
    if (a) undiciPosts.set(request, a);
  });
  dc.subscribe("undici:request:bodySent", ({ request }) => {
    const a = undiciPosts.get(request);
    if (a) traceHop("wire", a.kind, a.id);
  });
  dc.subscribe("undici:request:headers", ({ request }) => {
    const a = undiciPosts.get(request);
    if (a) traceHop("head", a.kind, a.id);
  });
  const realFetch = globalThis.fetch;
  if (realFetch) {
    globalThis.fetch = async function tracedFetch(url, init) {
      if (init?.method === "POST" && typeof init.body === "string") {
        const a = about(init.body);
        traceHop("send", a.kind, a.id);
        const res = await calls.run(a, () => realFetch(url, init));
        traceHop("answer", a.kind, a.id);
        return res;
      }
      const res = await realFetch(url, init);
      if (!String(url).includes("/poll/") || !res.body) return res;
      const decoder = new TextDecoder();
      const stamped = res.body.pipeThrough(
        new TransformStream({
          transform(chunk, controller) {
            readChunk(decoder.decode(chunk, { stream: true }));
            controller.enqueue(chunk);
          },
        }),
      );
      return new Response(stamped, { status: res.status, statusText: res.statusText, headers: res.headers });
    };
  }
}
