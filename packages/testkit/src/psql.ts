import { execFile } from "node:child_process";
import { findPsql } from "./postgres-binaries";

/**
 * Runs SQL through the psql program, so that the testkit needs no PostgreSQL client library.
 * Returns psql's unaligned, tuples-only output: one line per row, columns separated by "|".
 * Throws with psql's message when a statement fails.
 */
export function runPsql(url: string, sql: string): Promise<string> {
  const psql = findPsql();
  if (!psql) {
    return Promise.reject(
      new Error(
        "psql not found (beside initdb, nor on PATH). On Debian or Ubuntu: `apt-get install postgresql-client` " +
          "(the `postgresql` package brings it too).",
      ),
    );
  }
  return new Promise((resolve, reject) => {
    execFile(
      psql,
      // -X: no ~/.psqlrc; -q -A -t: bare rows; ON_ERROR_STOP: a failed statement fails the run.
      ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
      { env: { ...process.env, PGCONNECT_TIMEOUT: process.env.PGCONNECT_TIMEOUT ?? "10" }, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`psql failed on ${JSON.stringify(sql)}: ${stderr.trim() || error.message}`));
        else resolve(stdout.replace(/\n$/, ""));
      },
    );
  });
}
