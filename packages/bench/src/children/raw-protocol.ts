// The bench's own protocol client, without any SDK: one POST per request over a keep-alive
// node:http agent, and the SSE stream of a poll address. Used where a workload needs traffic that
// no SDK shapes (seeding rows, probing single requests, the latency baseline of raw-rpc.ts).
import http from "node:http";
import { PROTOCOL_VERSION } from "@resonate-compat/protocol";
import { createParser } from "eventsource-parser";

export const DAY = 24 * 3600 * 1000;

export interface Answer {
  status: number;
  /** Read loosely: the bench only looks at a few known fields of each answer. */
  data: any;
}

export class RawClient {
  private readonly target: URL;
  private readonly agent: http.Agent;
  private corr = 0;

  constructor(url: string, maxSockets = 64) {
    this.target = new URL(url);
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  /** One request envelope; resolves with the answer's status and data (any status). */
  call(kind: string, data: unknown): Promise<Answer> {
    const payload = JSON.stringify({ kind, head: { corrId: `bench-${this.corr++}`, version: PROTOCOL_VERSION }, data });
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.target.hostname,
          port: this.target.port,
          path: "/",
          method: "POST",
          agent: this.agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (text += c));
          res.on("end", () => {
            try {
              const body = JSON.parse(text) as { head: { status: number }; data: unknown };
              resolve({ status: body.head.status, data: body.data });
            } catch (e) {
              reject(e as Error);
            }
          });
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  }

  /**
   * Opens GET /poll/{group}/{id} and calls `onMessage` with each message's parsed JSON. Resolves once
   * the server has answered 200 (the stream is registered); rejects on any other status.
   */
  poll(group: string, id: string, onMessage: (message: { kind: string; data: any }) => void): Promise<http.IncomingMessage> {
    const parser = createParser({ onEvent: (event) => onMessage(JSON.parse(event.data)) });
    return new Promise((resolve, reject) => {
      const req = http.get(
        { host: this.target.hostname, port: this.target.port, path: `/poll/${encodeURIComponent(group)}/${encodeURIComponent(id)}` },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            reject(new Error(`poll ${group}/${id}: HTTP ${res.statusCode}`));
            return;
          }
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => parser.feed(chunk));
          resolve(res);
        },
      );
      req.on("error", reject);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** `param` of an invocation of `func(...args)`, as the SDKs encode it. */
export const invocationParam = (func: string, args: unknown[]) => ({
  headers: {},
  data: Buffer.from(JSON.stringify({ func, args, version: 1 })).toString("base64"),
});

/** The reserved tags of an rpc root (its own lineage, global scope). */
export const rootTags = (id: string) => ({ "resonate:origin": id, "resonate:branch": id, "resonate:parent": id, "resonate:scope": "global" });

/** A resolved Value carrying `value` as base64 JSON. */
export const encodedValue = (value: unknown) => ({ headers: {}, data: Buffer.from(JSON.stringify(value)).toString("base64") });

export const decodeValue = (value: { data?: string } | undefined): unknown =>
  value?.data === undefined ? undefined : JSON.parse(Buffer.from(value.data, "base64").toString("utf8"));
