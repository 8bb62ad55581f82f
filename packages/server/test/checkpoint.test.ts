// The SQLite file store checkpoints its WAL on a worker thread, not inside request commits, and
// keeps other servers off the file with a sidecar lock.

import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PromiseRecord } from "@resonate-compat/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteStore } from "../src/store/sqlite/sqlite-store";
import { DatabaseOpenError, openDatabase } from "../src/store/sqlite/open";
import { eventually } from "./helpers";

const dirs: string[] = [];
const stores: SqliteStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function freshPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "resonate-ckpt-"));
  dirs.push(dir);
  return join(dir, "server.db");
}

const promise = (id: string): PromiseRecord => ({
  id,
  state: "pending",
  param: { headers: {}, data: "x".repeat(200) },
  value: { headers: {}, data: "" },
  tags: {},
  timeoutAt: 1e15,
  createdAt: 1,
});

describe("WAL checkpoints off the request path", () => {
  it("pages reach the database file while the server's connection never checkpoints itself", async () => {
    const path = freshPath();
    const store = SqliteStore.open(path);
    stores.push(store);
    const before = statSync(path).size;
    // 2,000 one-row commits: well under the connection's own threshold of 50,000 WAL pages.
    for (let i = 0; i < 2000; i++) store.transactSync((tx) => tx.insertPromise(promise(`p${i}`)));
    const walPages = statSync(`${path}-wal`).size / 4096;
    expect(walPages).toBeLessThan(50_000);
    // Only the checkpoint thread can have copied pages into the main file by now.
    await eventually(() => statSync(path).size > before + 100 * 1024, 5_000, "the main file to grow");
    expect(store.transactSync((tx) => tx.getPromise("p1999"))?.id).toBe("p1999");
  });

  it("a second store on the same file is refused with a clear error until the first one closes", () => {
    const path = freshPath();
    const first = SqliteStore.open(path);
    expect(() => SqliteStore.open(path)).toThrow(DatabaseOpenError);
    expect(() => SqliteStore.open(path)).toThrow(/locked by another process/);
    first.transactSync((tx) => tx.insertPromise(promise("kept")));
    first.close();
    const second = SqliteStore.open(path);
    stores.push(second);
    expect(second.transactSync((tx) => tx.getPromise("kept"))?.id).toBe("kept");
  });

  it("the server's connection lets the WAL grow well past 10,000 pages before it checkpoints itself", () => {
    // That checkpoint holds the event loop for three fsyncs; under steady load it is the only one
    // that restarts the WAL (the thread's never quite catch up), so it must be rare. Without the
    // thread, 12,000+ pages of commits: a connection that checkpointed at 10,000 would have
    // restarted its WAL, and the file would have stopped growing there.
    const path = freshPath();
    const { db, lock } = openDatabase(path);
    const store = new SqliteStore(db, lock);
    stores.push(store);
    const big = (id: string): PromiseRecord => ({ ...promise(id), param: { headers: {}, data: "y".repeat(3000) } });
    for (let i = 0; statSync(`${path}-wal`).size / 4096 < 12_000 && i < 20_000; i++) {
      store.transactSync((tx) => tx.insertPromise(big(`w${i}`)));
    }
    expect(statSync(`${path}-wal`).size / 4096).toBeGreaterThanOrEqual(12_000);
  });

  it("close folds the WAL back into the file", () => {
    const path = freshPath();
    const store = SqliteStore.open(path);
    for (let i = 0; i < 200; i++) store.transactSync((tx) => tx.insertPromise(promise(`c${i}`)));
    store.close();
    let walSize = 0;
    try {
      walSize = statSync(`${path}-wal`).size;
    } catch {
      // removed: also fine
    }
    expect(walSize).toBe(0);
  });
});
