// The external system of the fencing example: a table of results, one row per task id, that keeps
// the highest fencing-token version it has seen for each task and refuses writes with a lower one.
//
// In a database this is one statement per operation (SQLite and PostgreSQL):
//
//   CREATE TABLE results (task_id TEXT PRIMARY KEY, version INTEGER NOT NULL, value TEXT);
//
//   -- claim: from now on, refuse every holder older than this one (run before the work starts)
//   INSERT INTO results (task_id, version) VALUES (?, ?)
//     ON CONFLICT (task_id) DO UPDATE SET version = excluded.version
//     WHERE excluded.version > results.version;
//   -- write: accepted iff no later holder has claimed or written (1 row changed), refused otherwise (0)
//   INSERT INTO results (task_id, version, value) VALUES (?, ?, ?)
//     ON CONFLICT (task_id) DO UPDATE SET version = excluded.version, value = excluded.value
//     WHERE excluded.version >= results.version;
//
// The examples package has no database driver among its dependencies (better-sqlite3 belongs to the
// server, and node:sqlite needs Node 22), so this file plays the table with JSON files in one
// directory, shared by every worker process on the machine. Each operation is an atomic
// compare-and-set without a lock: the table's generations are immutable files `table.<n>.json`; a
// change reads the newest generation n and creates generation n + 1 with link(2), which fails if it
// exists. Of two concurrent changes one wins; the other reads again and retries. A process frozen or
// killed anywhere leaves nothing locked. It is a stand-in, made for a demo and a test on one machine.
import fs from "node:fs";
import path from "node:path";

export interface Token {
  readonly taskId: string;
  readonly version: number;
}

export interface Row {
  /** The highest version claimed or written for this task. */
  version: number;
  /** The accepted value (absent while only claimed). */
  value?: unknown;
}

export interface Outcome {
  accepted: boolean;
  /** The row's version after the operation (the later holder's, when refused). */
  highest: number;
}

export class FencedStore {
  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }

  /** Raises the task's version to the token's; refused if a later holder got there first. */
  claim(token: Token): Outcome {
    return this.update((rows) => {
      const row = rows[token.taskId];
      if (row && row.version > token.version) return { accepted: false, highest: row.version };
      if (row?.version === token.version) return { accepted: true, highest: row.version }; // nothing to change
      rows[token.taskId] = { ...row, version: token.version };
      return { accepted: true, highest: token.version, changed: true };
    });
  }

  /** Stores the value under the token; refused if a later holder has claimed or written. */
  write(token: Token, value: unknown): Outcome {
    return this.update((rows) => {
      const row = rows[token.taskId];
      if (row && row.version > token.version) return { accepted: false, highest: row.version };
      rows[token.taskId] = { version: token.version, value };
      return { accepted: true, highest: token.version, changed: true };
    });
  }

  /** The whole table (for tests and curious readers). */
  rows(): Record<string, Row> {
    return this.newest().rows;
  }

  private newest(): { generation: number; rows: Record<string, Row> } {
    for (;;) {
      const generation = Math.max(0, ...fs.readdirSync(this.dir).map((f) => /^table\.(\d+)\.json$/.exec(f)?.[1]).filter((n) => n !== undefined).map(Number));
      if (generation === 0) return { generation, rows: {} };
      try {
        return { generation, rows: JSON.parse(fs.readFileSync(this.file(generation), "utf8")) as Record<string, Row> };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err; // pruned meanwhile: look again
      }
    }
  }

  private file(generation: number): string {
    return path.join(this.dir, `table.${generation}.json`);
  }

  private update(change: (rows: Record<string, Row>) => Outcome & { changed?: boolean }): Outcome {
    for (;;) {
      const { generation, rows } = this.newest();
      const { changed, ...outcome } = change(rows);
      if (!changed) return outcome;
      // The whole new generation is written first, then linked under its name: visible complete or not at all.
      const tmp = path.join(this.dir, `.tmp.${process.pid}.${generation + 1}`);
      fs.writeFileSync(tmp, JSON.stringify(rows, null, 2));
      try {
        fs.linkSync(tmp, this.file(generation + 1)); // the compare-and-set
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST") continue; // another change won: read again
        throw err;
      } finally {
        fs.rmSync(tmp, { force: true });
      }
      if (generation > 10) fs.rmSync(this.file(generation - 10), { force: true }); // old generations
      return outcome;
    }
  }
}
