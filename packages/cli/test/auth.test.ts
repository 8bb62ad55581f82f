import { describe, expect, it } from "vitest";
import { base64Json, cli, cliJson, expectOneLineError, post, startCli, unsignedToken, useServer, waitFor } from "./helpers";

// A server with authentication on, accepting unsigned tokens (README "Authentication").
const env = useServer({ authPublicKey: "none" });
const S = () => ["-S", env.url];
const ADMIN = unsignedToken({ role: "admin" });

describe("with authentication on", () => {
  it("no token: 401; a token with neither role nor prefix: 403 (exit 1, one line)", async () => {
    const [anonymous, nobody] = await Promise.all([
      cli(["promises", "create", "a-1", "--timeout", "1h", ...S()]),
      cli(["promises", "create", "a-1", "--timeout", "1h", "-T", unsignedToken({}), ...S()]),
    ]);
    expect(anonymous.code).toBe(1);
    expect(expectOneLineError(anonymous.stderr)).toBe("error: 401 Unauthorized");
    expect(nobody.code).toBe(1);
    expect(expectOneLineError(nobody.stderr)).toBe("error: 403 Forbidden");
  });

  it("an admin token works, from --token or RESONATE_TOKEN", async () => {
    const created = await cliJson(["promises", "create", "a-2", "--timeout", "1h", "--token", ADMIN, ...S()]);
    expect(created.promise.id).toBe("a-2");
    const fromEnv = await cliJson(["promises", "search", ...S()], { RESONATE_TOKEN: ADMIN });
    expect(fromEnv.promises.map((p: { id: string }) => p.id)).toContain("a-2");
  });

  it("a prefix token reaches its ids only and cannot search", async () => {
    const tenant = unsignedToken({ prefix: "tenant-" });
    const [own, foreign, search] = await Promise.all([
      cli(["promises", "create", "tenant-1", "--timeout", "1h", "-T", tenant, ...S()]),
      cli(["promises", "create", "other-1", "--timeout", "1h", "-T", tenant, ...S()]),
      cli(["promises", "search", "-T", tenant, ...S()]),
    ]);
    expect(own.code).toBe(0);
    expect(foreign.stderr).toBe("error: 403 Forbidden\n");
    expect(search.stderr).toBe("error: 403 Forbidden\n");
  });

  it("invoke --wait opens its poll stream with the token", async () => {
    const waiting = startCli(["invoke", "a-wait", "--func", "f", "--wait", "-T", ADMIN, ...S()]);
    try {
      await waitFor(() => waiting.output.stderr, "waiting for a-wait");
      // Wait for the listener so that the answer comes by the stream, not by a later promise.get.
      await waitFor(() => JSON.stringify([...env.server.registry.all()].map((c) => c.group)), "resonate-cli");
      await post(env.url, "promise.settle", { id: "a-wait", state: "resolved", value: { headers: {}, data: base64Json("ok") } }, ADMIN);
      const result = await waiting.done;
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('resolved: "ok"');
      expect(result.stderr).not.toContain("no poll stream");
    } finally {
      waiting.kill();
    }
  });
});
