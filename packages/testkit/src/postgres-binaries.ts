import { execFileSync } from "node:child_process";
import { readdirSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { findExecutable, isExecutable } from "./find-executable";

export interface PostgresBinaries {
  /** The folder holding initdb and postgres (psql is usually there too). */
  binDir: string;
  initdb: string;
  postgres: string;
}

export const INSTALL_HINT =
  "On Debian or Ubuntu: `apt-get install postgresql` (or run `bash scripts/setup.sh` as root, which does it); " +
  "elsewhere install your system's PostgreSQL server package. Or set RESONATE_TEST_PG_BINDIR to the folder " +
  "holding initdb and postgres, or RESONATE_TEST_PG_URL to a server the tests may create databases on.";

/**
 * Finds PostgreSQL's server programs. Debian keeps them off PATH (in /usr/lib/postgresql/<v>/bin),
 * so after an explicit folder (the binDir option, then RESONATE_TEST_PG_BINDIR) come initdb on
 * PATH, `pg_config --bindir`, and the newest /usr/lib/postgresql/<version>/bin.
 */
export function findPostgresBinaries(binDir?: string): PostgresBinaries {
  const explicit = binDir ?? process.env.RESONATE_TEST_PG_BINDIR;
  if (explicit) {
    const found = serverBinariesIn(explicit);
    if (!found) throw new Error(`PostgreSQL server programs (initdb, postgres) not found in ${explicit}. ${INSTALL_HINT}`);
    return found;
  }
  for (const folder of candidateFolders()) {
    const found = serverBinariesIn(folder);
    if (found) return found;
  }
  throw new Error(
    "PostgreSQL server programs (initdb, postgres) not found on PATH, in `pg_config --bindir` or in " +
      `/usr/lib/postgresql/*/bin. ${INSTALL_HINT}`,
  );
}

/** psql: beside the server programs when they are found, else on PATH. */
export function findPsql(): string | undefined {
  for (const folder of candidateFolders()) {
    if (isExecutable(join(folder, "psql"))) return join(folder, "psql");
  }
  return findExecutable("psql");
}

function* candidateFolders(): Generator<string> {
  const explicit = process.env.RESONATE_TEST_PG_BINDIR;
  if (explicit) yield explicit;
  // A symlink on PATH (e.g. /usr/local/bin/initdb) leads to the folder that has the rest.
  const initdb = findExecutable("initdb");
  if (initdb) yield dirname(realpathSync(initdb));
  const pgConfig = findExecutable("pg_config");
  if (pgConfig) {
    try {
      yield execFileSync(pgConfig, ["--bindir"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      // a pg_config that does not answer is no lead
    }
  }
  let versions: string[] = [];
  try {
    versions = readdirSync("/usr/lib/postgresql").filter((name) => /^\d+(\.\d+)?$/.test(name));
  } catch {
    // no Debian-style installation
  }
  versions.sort((a, b) => Number(b) - Number(a));
  for (const version of versions) yield `/usr/lib/postgresql/${version}/bin`;
}

function serverBinariesIn(folder: string): PostgresBinaries | undefined {
  const initdb = join(folder, "initdb");
  const postgres = join(folder, "postgres");
  if (!isExecutable(initdb) || !isExecutable(postgres)) return undefined;
  return { binDir: folder, initdb, postgres };
}
