// Ceiling: one-row write transactions committed back to back for `durationMs`, on a fresh file,
// with the server's pragmas (exclusive lock, WAL) and its synchronous mode (NORMAL by default;
// FULL = an fsync per commit). argv[2]: { path, sync, durationMs }.
import Database from "better-sqlite3";
import { mark } from "./producer-core.mjs";

const { path, sync, durationMs } = JSON.parse(process.argv[2] ?? "{}") as { path: string; sync: "normal" | "full"; durationMs: number };
const db = new Database(path);
db.pragma("locking_mode = EXCLUSIVE");
db.pragma("journal_mode = WAL");
db.pragma(`synchronous = ${sync === "full" ? "FULL" : "NORMAL"}`);
db.exec("CREATE TABLE t (id TEXT PRIMARY KEY, state TEXT NOT NULL, value TEXT NOT NULL, created_at INTEGER NOT NULL)");
const insert = db.prepare("INSERT INTO t (id, state, value, created_at) VALUES (?, 'pending', ?, ?)");
// BEGIN IMMEDIATE … COMMIT, as the server's store.transact does.
const commit = db.transaction((i: number) => insert.run(`row-${i}`, '{"headers":{},"data":"e30="}', Date.now()));
for (let i = 0; i < 200; i++) commit.immediate(-1 - i); // warm-up
const t0 = process.hrtime.bigint();
const end = Date.now() + durationMs;
let n = 0;
while (Date.now() < end) {
  for (let k = 0; k < 50; k++) commit.immediate(n++);
}
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
db.close();
mark("result", { commits: n, ms, rate: (n * 1000) / ms, sync });
