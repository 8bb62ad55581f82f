// A server with authentication: without a token the kit stops with exit code 2 and says so; with an
// admin token (--token) the token reaches the envelopes, the SSE streams and the SDK processes.
import { afterAll, expect, test } from "vitest";
import { type Proc, runKit, startServer, summary } from "./processes.js";

let server: Proc | undefined;
afterAll(async () => {
  await server?.kill();
});

/** An unsigned JWT, accepted by `--auth-publickey none`. */
function unsignedToken(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT" })}.${part(claims)}.`;
}

test("with auth on: no token → exit 2; an admin token → the protocol and SDK suites pass", async () => {
  const s = await startServer(["--db", ":memory:", "--auth-publickey", "none"]);
  server = s.proc;
  const refused = await runKit(["--url", s.url]);
  expect(refused.code).toBe(2);
  expect(refused.output).toMatch(/refused the kit's request \(401\): pass a token with --token/);

  const token = unsignedToken({ role: "admin", exp: Math.floor(Date.now() / 1000) + 3600 });
  const run = await runKit(["--url", s.url, "--token", token, "--suite", "protocol", "sdk"]);
  expect(run.output).not.toMatch(/^\s+✗ /m);
  expect(summary(run.output)?.failed).toBe(0);
  expect(run.output).toMatch(/✓ sdk: load balancing/);
  expect(run.code).toBe(0);
});
