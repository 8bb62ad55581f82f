import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { PromiseRecord } from "@resonate-compat/protocol";
import type { ProtocolClient } from "./client";
import { CliError, UnreachableError } from "./errors";
import { PollStream } from "./poll-stream";

// Waiting for a promise to settle without keeping a worker: open a poll stream of our own, register
// it as a listener of the promise (the server then pushes one `unblock` when it settles), and wait.
// A message can be lost (the stream dropped, the server restarted), so a promise.get now and then
// checks by hand; while no stream can be opened, promise.get is all there is, with back-off.

/** The poll group the CLI's streams join; never the group of a worker. */
const GROUP = "resonate-cli";
/** With an open stream, look anyway this often, in case its unblock was lost. */
const SAFETY_CHECK_MS = 30_000;
/** Without a stream (or a server), try again after 1 s, doubling up to this. */
const MAX_BACKOFF_MS = 10_000;

export interface WaitHooks {
  /** Called every `progressEveryMs` while waiting. */
  onProgress?: (elapsedMs: number) => void;
  progressEveryMs?: number;
  /** Called when a fallback kicks in (no stream, server gone), once per change. */
  onNotice?: (text: string) => void;
}

export async function waitForSettlement(client: ProtocolClient, id: string, hooks: WaitHooks = {}): Promise<PromiseRecord> {
  const started = Date.now();
  const stop = new AbortController();
  let settled: PromiseRecord | undefined;
  let markSettled!: (promise: PromiseRecord) => void;
  const result = new Promise<PromiseRecord>((resolve) => (markSettled = resolve));
  const finish = (promise: PromiseRecord) => {
    if (settled || promise.state === "pending") return;
    settled = promise;
    markSettled(promise);
  };
  const progress = hooks.onProgress
    ? setInterval(() => hooks.onProgress?.(Date.now() - started), hooks.progressEveryMs ?? 5_000)
    : undefined;
  const pause = (ms: number) => sleep(ms, undefined, { signal: stop.signal }).catch(() => undefined);
  let lastNotice = "";
  const notice = (text: string) => {
    if (text !== lastNotice) hooks.onNotice?.(text);
    lastNotice = text;
  };
  // promise.get; a server that does not answer is a reason to wait longer, not to give up.
  const check = async (): Promise<boolean> => {
    try {
      finish((await client.call("promise.get", { id })).data.promise);
      return true;
    } catch (error) {
      if (!(error instanceof UnreachableError)) throw error;
      notice(`${error.message}; still trying`);
      return false;
    }
  };

  const pid = randomBytes(16).toString("hex");
  let stream: PollStream | undefined;
  let backoff = 1_000;
  try {
    while (!settled) {
      stream = new PollStream(client, GROUP, pid, (promise) => {
        if (promise.id === id) finish(promise);
      });
      let listening = false;
      try {
        await stream.connect();
        finish((await client.call("promise.register_listener", { awaited: id, address: stream.address })).data.promise);
        listening = true;
        backoff = 1_000;
        if (lastNotice) notice("listening again");
      } catch (error) {
        // The server refused the listener (404, 401, …): waiting cannot help.
        if (error instanceof CliError && !(error instanceof UnreachableError)) throw error;
        notice(`no poll stream (${(error as Error).message}); checking with promise.get instead`);
      }
      while (listening && !settled && stream.open) {
        const timedOut = await Promise.race([result.then(() => false), stream.ended.then(() => false), pause(SAFETY_CHECK_MS).then(() => true)]);
        if (timedOut && !settled) await check();
      }
      stream.close();
      if (settled) break;
      // The stream is gone (or never came): look once, then try a new stream after a pause.
      await check();
      if (settled) break;
      await Promise.race([result, pause(backoff)]);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  } finally {
    if (progress) clearInterval(progress);
    stop.abort();
    stream?.close();
  }
  return result;
}
