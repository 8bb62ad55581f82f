import { describe, expect, it } from "vitest";
import { cli, cliJson, expectOneLineError, post, unsignedToken, useServer } from "./helpers";
import { startServer } from "@resonate-compat/server";

// resonate workers, backlog and history against a real server: workers hold real poll streams,
// tasks are created, acquired and fulfilled through the protocol, and a worker is "killed" by
// closing its stream so that its lease is taken back and the task goes to another worker.

const env = useServer({ disconnectGrace: 50, reofferAfter: 0, keepaliveInterval: 100 });
const S = () => ["-S", env.url];

/** A worker's poll stream, held open until `close()`; collects the execute messages it gets. */
async function worker(group: string, pid: string): Promise<{ executes: string[]; close(): void }> {
  const controller = new AbortController();
  const response = await fetch(`${env.url}/poll/${group}/${pid}`, { headers: { accept: "text/event-stream" }, signal: controller.signal });
  const executes: string[] = [];
  const decoder = new TextDecoder();
  void (async () => {
    try {
      for await (const chunk of response.body!) {
        for (const line of decoder.decode(chunk, { stream: true }).split("\n")) {
          if (line.startsWith("data:")) executes.push(JSON.parse(line.slice(5)).data?.task?.id);
        }
      }
    } catch {
      // closed
    }
  })();
  await until(() => env.server.registry.has(group, pid), `stream of ${pid}`);
  return { executes, close: () => controller.abort() };
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const create = (id: string, group: string) =>
  post(env.url, "promise.create", { id, timeoutAt: Date.now() + 3_600_000, param: {}, tags: { "resonate:target": `poll://any@${group}` } }).then((r) => expect(r.status).toBe(200));

describe("resonate workers / backlog / history", () => {
  it("workers lists each group's connected processes with the tasks they hold; backlog counts what waits", async () => {
    const w1 = await worker("ops", "ops-w1");
    await create("ops-1", "ops");
    await until(() => w1.executes.includes("ops-1"), "the execute");
    expect((await post(env.url, "task.acquire", { id: "ops-1", version: 0, pid: "ops-w1", ttl: 60_000 })).status).toBe(200);
    await create("ops-2", "idle"); // a group nobody serves: its task waits
    try {
      const table = await cli(["workers", "--group", "ops", ...S()]);
      expect(table.code).toBe(0);
      const lines = table.stdout.trim().split("\n");
      expect(lines[0]).toMatch(/^GROUP\s+PID\s+REPLICA\s+TASKS\s+CONNECTED$/);
      expect(lines[1]).toMatch(new RegExp(`^ops\\s+ops-w1\\s+${env.server.replica}\\s+1\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ \\(.+ ago\\)$`));
      expect(lines).toHaveLength(2);

      const json = await cliJson(["workers", "--group", "ops", ...S()]);
      expect(json.groups[0].workers[0]).toMatchObject({ pid: "ops-w1", tasks: 1, replica: env.server.replica });

      const backlog = await cli(["backlog", ...S()]);
      expect(backlog.code).toBe(0);
      expect(backlog.stdout).toMatch(/^GROUP\s+WORKERS\s+PENDING\s+IN FLIGHT\s+OLDEST PENDING$/m);
      expect(backlog.stdout).toMatch(/^idle\s+0\s+1\s+0\s+\S+$/m);
      expect(backlog.stdout).toMatch(/^ops\s+1\s+0\s+1\s+-$/m);
      const backlogJson = await cliJson(["backlog", "--group", "idle", ...S()]);
      expect(backlogJson.groups).toEqual([{ group: "idle", workers: 0, pending: 1, acquired: 0, oldestPendingAgeMs: expect.any(Number) }]);

      expect((await cli(["workers", "--group", "nobody", ...S()])).stdout).toBe("no worker connected to nobody\n");
    } finally {
      w1.close();
    }
  });

  it("history tells a re-dispatched task's timeline in plain words", async () => {
    const w1 = await worker("hist", "hist-w1");
    await create("job-9", "hist");
    await until(() => w1.executes.includes("job-9"), "the execute on w1");
    expect((await post(env.url, "task.acquire", { id: "job-9", version: 0, pid: "hist-w1", ttl: 60_000 })).status).toBe(200);
    for (let i = 0; i < 2; i++) await post(env.url, "task.heartbeat", { pid: "hist-w1", tasks: [{ id: "job-9", version: 1 }] });
    const w2 = await worker("hist", "hist-w2");
    w1.close(); // killed
    try {
      await until(() => w2.executes.includes("job-9"), "the execute on w2");
      expect((await post(env.url, "task.acquire", { id: "job-9", version: 1, pid: "hist-w2", ttl: 60_000 })).status).toBe(200);
      const settle = (version: number) => post(env.url, "task.fulfill", { id: "job-9", version, action: { kind: "promise.settle", head: { corrId: "x", version: "2026-04-01" }, data: { id: "job-9", state: "resolved", value: {} } } });
      expect((await settle(1)).status).toBe(409);
      expect((await settle(2)).status).toBe(200);

      const result = await cli(["history", "job-9", ...S()]);
      expect(result.code).toBe(0);
      const r = env.server.replica;
      const lines = result.stdout.trim().split("\n");
      expect(lines[0]).toMatch(/^task job-9: fulfilled at version 2; times UTC, from \d{4}-\d\d-\d\d$/);
      expect(lines.slice(1).map((l) => l.replace(/^\d\d:\d\d:\d\d\.\d{3}  /, ""))).toEqual([
        "created for poll://any@hist",
        `offered to hist-w1 on ${r} (it held 0 tasks; the only worker of the group)`,
        `acquired by hist-w1 on ${r} (version 1, lease 1m)`,
        expect.stringMatching(/^lease extended by hist-w1, 2 times until \d\d:\d\d:\d\d\.\d{3}$/),
        "hist-w1's stream closed and it did not come back within the grace: lease taken back",
        `offered to hist-w2 on ${r} (it held 0 tasks; the only worker of the group)`,
        `acquired by hist-w2 on ${r} (version 2, lease 1m)`,
        "refused a stale task.fulfill at version 1 (the task is at version 2, acquired)",
        "fulfilled by hist-w2 (promise resolved)",
      ]);

      const json = await cliJson(["history", "job-9", ...S()]);
      expect(json.task).toEqual({ state: "fulfilled", version: 2 });
      expect(json.events.map((e: { event: string }) => e.event)).toEqual(["created", "offered", "acquired", "extended", "recovered", "offered", "acquired", "refused", "fulfilled"]);
    } finally {
      w2.close();
    }
  });

  it("errors: an unknown task is a 404 on one line (exit 1); a non-admin token is refused (exit 1)", async () => {
    const missing = await cli(["history", "no-such-task", ...S()]);
    expect(missing.code).toBe(1);
    expect(expectOneLineError(missing.stderr)).toBe("error: 404 no task no-such-task and no history for it");

    const guarded = await startServer({ port: 0, db: ":memory:", logLevel: "silent", authPublicKey: "none" });
    try {
      const denied = await cli(["backlog", "-S", guarded.url, "-T", unsignedToken({ prefix: "" })]);
      expect(denied.code).toBe(1);
      expect(expectOneLineError(denied.stderr)).toMatch(/^error: 403 /);
      const allowed = await cli(["backlog", "-S", guarded.url, "-T", unsignedToken({ role: "admin" })]);
      expect(allowed.code).toBe(0);
      expect(allowed.stdout).toBe("no group has a worker or a task\n");
    } finally {
      await guarded.close();
    }
  });
});
