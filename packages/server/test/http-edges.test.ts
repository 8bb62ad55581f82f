// What the HTTP layer answers outside the protocol (src/api/http-edges.ts): unknown paths, bodies
// over the limit, request-targets too long, exactly as the reference server (axum 0.7.9 on hyper
// 1.8) answers them. Raw sockets, so that status line, headers and body are seen as sent. Only the
// HTTP layer is involved, so this file does not run on PostgreSQL.

import net from "node:net";
import { describe, expect, it } from "vitest";
import { BODY_TOO_LARGE, MAX_HEAD_BYTES, MAX_URI_LENGTH } from "../src/api/http-edges";
import { T, createData, envelope, openSse, useSharedDebugServer } from "./helpers";

const ts = useSharedDebugServer();

interface RawResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string;
}

/** Sends one request over a fresh connection and reads the response until the server closes or the body is complete. */
function rawRequest(method: string, target: string, body = ""): Promise<RawResponse> {
  const { port } = new URL(ts.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), "127.0.0.1", () => {
      const length = Buffer.byteLength(body);
      socket.write(`${method} ${target} HTTP/1.1\r\nhost: localhost\r\ncontent-length: ${length}\r\n\r\n`);
      if (length > 0) socket.write(body);
    });
    let received = Buffer.alloc(0);
    const parse = (): RawResponse | undefined => {
      const text = received.toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      if (end === -1) return undefined;
      const [statusLine, ...lines] = text.slice(0, end).split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const content = received.subarray(Buffer.byteLength(text.slice(0, end + 4), "latin1"));
      const expected = Number(headers["content-length"] ?? Number.NaN);
      if (!Number.isNaN(expected) && content.length < expected) return undefined;
      return { status: Number(statusLine!.split(" ")[1]), headers, body: content.toString("utf8") };
    };
    const finish = () => {
      const response = parse();
      socket.destroy();
      if (response) resolve(response);
      else reject(new Error(`no complete response: ${JSON.stringify(received.toString("latin1").slice(0, 200))}`));
    };
    socket.on("data", (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (parse()) finish();
    });
    socket.on("close", finish);
    // The server may answer and close before it has read everything sent (413, 414).
    socket.on("error", (error: NodeJS.ErrnoException) => (error.code === "ECONNRESET" || error.code === "EPIPE" ? finish() : reject(error)));
  });
}

const aValidEnvelope = (id: string) =>
  JSON.stringify(envelope("promise.create", createData(id, T + 60_000), { "resonate:debug_time": T }));

describe("unknown paths", () => {
  it("→ 404 with an empty body and no content type, whatever the method (axum's default fallback)", async () => {
    for (const [method, path] of [["GET", "/nope"], ["POST", "/nope"], ["DELETE", "/a/b/c"], ["GET", "/poll/only-a-group"], ["GET", "/health/"]] as const) {
      const res = await rawRequest(method, path, method === "POST" ? "{}" : "");
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body, `${method} ${path}`).toBe("");
      expect(res.headers["content-length"]).toBe("0");
      expect(res.headers["content-type"]).toBeUndefined();
    }
  });
});

describe("request body limit (2 MiB, spec C8)", () => {
  const LIMIT = 2 * 1024 * 1024;

  it("a body of exactly the limit is processed", async () => {
    const json = aValidEnvelope("at-limit");
    // Trailing whitespace keeps it valid JSON of exactly LIMIT bytes.
    const res = await rawRequest("POST", "/", json + " ".repeat(LIMIT - json.length));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).data.promise.id).toBe("at-limit");
  });

  it("one byte more → 413, text/plain 'Failed to buffer the request body: length limit exceeded' (axum's rejection)", async () => {
    const json = aValidEnvelope("over-limit");
    const res = await rawRequest("POST", "/", json + " ".repeat(LIMIT + 1 - json.length));
    expect(res.status).toBe(413);
    expect(res.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(res.body).toBe(BODY_TOO_LARGE);
    expect(BODY_TOO_LARGE).toBe("Failed to buffer the request body: length limit exceeded");
    expect((await ts.call("promise.get", { id: "over-limit" })).status).toBe(404);
  });
});

describe("request-target length (hyper: 65 534 bytes)", () => {
  const target = (length: number) => `/?${"q".repeat(length - 2)}`;

  it("a target of 65 535 bytes → 414 with an empty body, connection closed", async () => {
    expect(MAX_URI_LENGTH).toBe(65_534);
    for (const [method, body] of [["POST", aValidEnvelope("long-uri")], ["GET", ""]] as const) {
      const res = await rawRequest(method, target(MAX_URI_LENGTH + 1), body);
      expect(res.status, method).toBe(414);
      expect(res.body).toBe("");
      expect(res.headers["content-length"]).toBe("0");
      expect(res.headers["connection"]).toBe("close");
    }
    expect((await ts.call("promise.get", { id: "long-uri" })).status).toBe(404);
  });

  it("targets of 20 000 and 65 534 bytes are processed (longer than Node's default 16 KiB head)", async () => {
    for (const length of [20_000, MAX_URI_LENGTH]) {
      const res = await rawRequest("POST", target(length), aValidEnvelope(`uri-${length}`));
      expect(res.status, `${length}`).toBe(200);
    }
  });

  it("a worker id longer than 100 characters is a valid poll path (no 414 from the router)", async () => {
    const stream = await openSse(ts.url, "workers", "w".repeat(500));
    try {
      expect(stream.status).toBe(200);
    } finally {
      stream.close();
    }
  });

  it("a request head larger than hyper's read buffer (8 KiB + 100 × 4 KiB) → 431", async () => {
    const res = await rawRequest("GET", target(MAX_HEAD_BYTES + 1));
    expect(res.status).toBe(431);
  });
});
