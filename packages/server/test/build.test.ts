// `pnpm build` makes dist/main.js, which `pnpm start` and the bench run with plain Node: the same
// server as the sources. Checked on a real process: it listens, keeps a promise across a restart
// (better-sqlite3 and the checkpoint thread, or pg in the "server-pg" project, load from
// node_modules), serves the dashboard from packages/dashboard/dist (found from dist/ as from
// src/api/) and stops on SIGTERM.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { SERVER_BUNDLE, buildServer } from "../scripts/build";
import { DASHBOARD_DIST } from "../src/api/ui";
import { REPO_ROOT, call, health, killChildren, removeTempDirs, spawnServer, tempDir, waitExit } from "./robustness/util";
import { freshDatabase, stopTestPostgres, testStore } from "./support/postgres";

afterEach(killChildren);
afterAll(removeTempDirs);
afterAll(stopTestPostgres);

/** Where the built server keeps its state: a SQLite file, or a fresh PostgreSQL database. */
async function storageFlags(): Promise<string[]> {
  if (testStore() === "postgres") return ["--storage-type", "postgres", "--storage-postgres-url", await freshDatabase()];
  return ["--db", join(tempDir("build-"), "built.db")];
}

describe("the built server (dist/main.js)", () => {
  it("runs as the sources do, with no TypeScript loader", async () => {
    expect(buildServer()).toBe(SERVER_BUNDLE);
    expect(readFileSync(SERVER_BUNDLE, "utf8")).not.toMatch(/from "@resonate-compat\//);

    const args = ["--port", "0", ...(await storageFlags()), "--log-level", "info"];
    const first = await spawnServer(args, { main: SERVER_BUNDLE });
    expect(first.lines.join("\n")).not.toMatch(/tsx/);
    expect(String(first.logs().find((l) => l.msg === "server listening")?.["storage"])).toMatch(new RegExp(`^${testStore()}:`));
    expect(await health(first.url)).toBe(200);
    const created = await call(first.url, "promise.create", { id: "built-1", timeoutAt: Date.now() + 3_600_000, param: { headers: {}, data: "e30=" } });
    expect(created.status).toBe(200);

    const ui = await fetch(`${first.url}/ui/`);
    expect(existsSync(DASHBOARD_DIST), "the dashboard is built (bash scripts/setup.sh, or pnpm build)").toBe(true);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toBe(readFileSync(join(DASHBOARD_DIST, "index.html"), "utf8"));

    expect(await first.stop()).toBe(0);
    expect(first.logs().some((l) => l.msg === "server stopped")).toBe(true);

    const second = await spawnServer(args, { main: SERVER_BUNDLE });
    const read = await call(second.url, "promise.get", { id: "built-1" });
    expect(read.status).toBe(200);
    expect(read.json.data.promise).toMatchObject({ id: "built-1", state: "pending" });
    second.proc.kill("SIGTERM");
    expect(await waitExit(second)).toBe(0);
  });

  it("finds the dashboard at packages/dashboard/dist from the sources too", () => {
    expect(DASHBOARD_DIST).toBe(join(REPO_ROOT, "packages", "dashboard", "dist"));
  });
});
