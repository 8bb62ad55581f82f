// Which PostgreSQL client for the PostgreSQL store: node-postgres (`pg`) or Postgres.js (`postgres`)?
// Starts a throwaway cluster (packages/testkit) and runs, with each library, a transaction shaped
// like our request path, every statement awaited before the next as our store issues them:
//   BEGIN ISOLATION LEVEL …; SELECT a promise by id; INSERT a promise; INSERT a task;
//   UPDATE the task; COMMIT
// sequentially on one connection (latency per transaction) and with 8 and 16 concurrent callers
// over a pool of 10 (transactions per second), under SERIALIZABLE and READ COMMITTED, alternating
// the libraries, for several rounds. Serialization failures and deadlocks are retried and counted.
// Then it checks, without timing, what else we depend on: bigint parsing, error codes,
// savepoints, transactions on a checked-out connection, LISTEN/NOTIFY across a lost connection.
//
//   node --import tsx packages/server/scripts/pg-client-choice.ts [--seconds 2] [--rounds 3]
//        [--fsync] [--libraries pg,postgres] [--skip-checks]
//
// --fsync: commits wait for the disk (off by default, so that the clients' own costs are not
// hidden behind the disk's). --libraries may also name pg-unnamed: node-postgres without named
// prepared statements (its default: every query is parsed again).
// The default run takes about 100 s.
//
// Reading the table: tx/s and latencies are wall-clock and move with whatever else the machine
// runs; the CPU columns (this process, and the PostgreSQL processes) per committed transaction
// move much less. "retried per round": SERIALIZABLE conflicts come mostly in the first round, when
// the tables are small and every insert lands in the same index pages as everyone's reads.
import { readdirSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startPostgres } from "@resonate-compat/testkit";
import pg from "pg";
import postgres from "postgres";

const { values: flags } = parseArgs({
  options: {
    seconds: { type: "string", default: "2" },
    rounds: { type: "string", default: "3" },
    fsync: { type: "boolean", default: false },
    libraries: { type: "string", default: "pg,postgres" },
    "skip-checks": { type: "boolean", default: false },
  },
});
const SECONDS = Number(flags.seconds);
const ROUNDS = Number(flags.rounds);
const POOL_SIZE = 10;
const SEEDED = 10_000;
const RETRYABLE = new Set(["40001", "40P01"]);

type Isolation = "SERIALIZABLE" | "READ COMMITTED";
type LibraryName = "pg" | "pg-unnamed" | "postgres";

/** One request-shaped transaction; resolves once committed, rejects with the driver's error. */
type Transaction = (ids: TxIds, isolation: Isolation) => Promise<void>;

interface TxIds {
  lookup: string;
  promise: string;
  task: string;
  now: number;
}

interface Library {
  name: LibraryName;
  run: Transaction;
  close(): Promise<void>;
}

const PARAM = JSON.stringify({ headers: { "content-type": "application/json" }, data: Buffer.alloc(120, 7).toString("base64") });
const TAGS = JSON.stringify({ "resonate:target": "poll://any@workers", "resonate:invoke": "poll://any@workers", "resonate:scope": "global" });

const SQL = {
  select: "SELECT id, state, param, tags, timeout_at, created_on FROM promises WHERE id = $1",
  insertPromise:
    "INSERT INTO promises (id, state, param, tags, timeout_at, created_on) VALUES ($1, 'pending', $2::jsonb, $3::jsonb, $4, $5)",
  insertTask: "INSERT INTO tasks (id, promise_id, state, version, created_on, expires_at) VALUES ($1, $2, 'pending', 1, $3, $4)",
  updateTask: "UPDATE tasks SET state = 'acquired', version = version + 1, process_id = $2, ttl = $3, expires_at = $4 WHERE id = $1",
};

const SCHEMA = `
  CREATE TABLE promises (
    id text PRIMARY KEY, state text NOT NULL, param jsonb, value jsonb, tags jsonb NOT NULL,
    timeout_at bigint NOT NULL, created_on bigint NOT NULL, settled_on bigint, idempotency_key text);
  CREATE TABLE tasks (
    id text PRIMARY KEY, promise_id text NOT NULL, state text NOT NULL, version bigint NOT NULL,
    process_id text, ttl bigint, expires_at bigint, created_on bigint NOT NULL);
  INSERT INTO promises (id, state, param, tags, timeout_at, created_on)
    SELECT 'seed-' || i, 'pending', '${PARAM}'::jsonb, '${TAGS}'::jsonb, 1700000000000 + i, 1700000000000
    FROM generate_series(0, ${SEEDED - 1}) AS i;
  ANALYZE;`;

// ---------------------------------------------------------------------------------------------
// The two libraries, each configured as our store would be: a pool of 10, int8 read as a number.

function nodePostgres(url: string, named: boolean): Library {
  const pool = new pg.Pool({
    connectionString: url,
    max: POOL_SIZE,
    // int8 comes back as a string by default; our timestamps (ms) fit a number.
    types: { getTypeParser: ((oid: number, format?: "text" | "binary") => (oid === 20 ? Number : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser },
  });
  const q = (client: pg.PoolClient, name: keyof typeof SQL, values: unknown[]) =>
    named ? client.query({ name, text: SQL[name], values }) : client.query(SQL[name], values);
  return {
    name: named ? "pg" : "pg-unnamed",
    async run(ids, isolation) {
      // A connection checked out of the pool, the transaction's statements issued one by one.
      const client = await pool.connect();
      try {
        await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
        await q(client, "select", [ids.lookup]);
        await q(client, "insertPromise", [ids.promise, PARAM, TAGS, ids.now + 60_000, ids.now]);
        await q(client, "insertTask", [ids.task, ids.promise, ids.now, ids.now + 30_000]);
        await q(client, "updateTask", [ids.task, "worker-1", 30_000, ids.now + 30_000]);
        await client.query("COMMIT");
        client.release();
      } catch (error) {
        // A connection whose ROLLBACK fails is broken: release(error) closes it instead of pooling it.
        await client.query("ROLLBACK").then(
          () => client.release(),
          (rollbackError: Error) => client.release(rollbackError),
        );
        throw error;
      }
    },
    close: () => pool.end(),
  };
}

function postgresJs(url: string): Library {
  const sql = postgres(url, {
    max: POOL_SIZE,
    onnotice: () => {},
    types: { int8: { to: 20, from: [20], serialize: (value: number) => String(value), parse: (raw: string) => Number(raw) } },
  });
  return {
    name: "postgres",
    async run(ids, isolation) {
      // Its idiomatic transaction: a connection reserved for the callback, BEGIN and COMMIT (or
      // ROLLBACK on a throw) sent around it; tagged templates, which it prepares as named
      // statements by default; each statement awaited, so nothing is pipelined.
      await sql.begin(`isolation level ${isolation.toLowerCase()}`, async (tx) => {
        await tx`SELECT id, state, param, tags, timeout_at, created_on FROM promises WHERE id = ${ids.lookup}`;
        await tx`INSERT INTO promises (id, state, param, tags, timeout_at, created_on)
                 VALUES (${ids.promise}, 'pending', ${PARAM}::jsonb, ${TAGS}::jsonb, ${ids.now + 60_000}, ${ids.now})`;
        await tx`INSERT INTO tasks (id, promise_id, state, version, created_on, expires_at)
                 VALUES (${ids.task}, ${ids.promise}, 'pending', 1, ${ids.now}, ${ids.now + 30_000})`;
        await tx`UPDATE tasks SET state = 'acquired', version = version + 1, process_id = ${"worker-1"},
                 ttl = ${30_000}, expires_at = ${ids.now + 30_000} WHERE id = ${ids.task}`;
      });
    },
    close: () => sql.end({ timeout: 5 }),
  };
}

function openLibrary(name: LibraryName, url: string): Library {
  if (name === "postgres") return postgresJs(url);
  return nodePostgres(url, name === "pg");
}

// ---------------------------------------------------------------------------------------------
// Load: `callers` loops for `seconds`, each running transactions back to back.

interface Sample {
  library: LibraryName;
  isolation: Isolation;
  callers: number;
  round: number;
  committed: number;
  retries: number;
  failed: number;
  seconds: number;
  latencies: number[];
  /** CPU time of this process (the client library and the loop around it), µs. */
  clientCpuUs: number;
  /** CPU time of the PostgreSQL processes, µs (10 ms ticks). */
  serverCpuUs: number;
}

/**
 * CPU time used so far by the postmaster's children (the backends serving the pool, plus the
 * background processes), from /proc, in µs. The machine is shared, so wall-clock figures move
 * with everyone else's load; CPU time per transaction does not.
 */
function serverCpuUs(postmaster: number | undefined): number {
  // With RESONATE_TEST_PG_URL the server is elsewhere: not measured.
  if (postmaster === undefined) return Number.NaN;
  let ticks = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // After the command: state, ppid, …; utime and stime are fields 14 and 15 of the whole line.
      if (Number(fields[1]) === postmaster) ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // ended while we looked
    }
  }
  return ticks * 10_000;
}

let sequence = 0;

async function measure(library: Library, isolation: Isolation, callers: number, seconds: number, round: number, postmaster: number | undefined): Promise<Sample> {
  const latencies: number[] = [];
  const cpuBefore = process.cpuUsage();
  const serverBefore = serverCpuUs(postmaster);
  let retries = 0;
  let failed = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const caller = async () => {
    while (performance.now() < deadline) {
      const n = ++sequence;
      const ids: TxIds = {
        lookup: `seed-${(n * 7919) % SEEDED}`,
        promise: `${library.name}-${round}-${n}`,
        task: `${library.name}-${round}-${n}-task`,
        now: Date.now(),
      };
      const begun = performance.now();
      for (let attempt = 1; ; attempt++) {
        try {
          await library.run(ids, isolation);
          latencies.push(performance.now() - begun);
          break;
        } catch (error) {
          const code = (error as { code?: string }).code ?? "";
          if (RETRYABLE.has(code) && attempt < 100) {
            retries++;
            continue;
          }
          failed++;
          console.error(`${library.name}: ${code} ${(error as Error).message}`);
          break;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: callers }, caller));
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    library: library.name,
    isolation,
    callers,
    round,
    committed: latencies.length,
    retries,
    failed,
    seconds: elapsed,
    latencies,
    clientCpuUs: cpu.user + cpu.system,
    serverCpuUs: serverCpuUs(postmaster) - serverBefore,
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function report(samples: Sample[]): void {
  const rows: string[][] = [
    ["library", "isolation", "callers", "tx/s per round", "tx/s median", "p50 ms", "p99 ms", "client CPU µs/tx", "server CPU µs/tx", "retried per round", "failed"],
  ];
  const keys = new Map<string, Sample[]>();
  for (const sample of samples) {
    const key = `${sample.callers}|${sample.isolation}|${sample.library}`;
    keys.set(key, [...(keys.get(key) ?? []), sample]);
  }
  for (const group of keys.values()) {
    const first = group[0]!;
    const tps = group.map((sample) => sample.committed / sample.seconds);
    const latencies = group.flatMap((sample) => sample.latencies).sort((a, b) => a - b);
    rows.push([
      first.library,
      first.isolation,
      first.callers === 1 ? "1 (one connection)" : `${first.callers} (pool ${POOL_SIZE})`,
      tps.map((value) => value.toFixed(0)).join(" / "),
      median(tps).toFixed(0),
      percentile(latencies, 50).toFixed(2),
      percentile(latencies, 99).toFixed(2),
      median(group.map((sample) => sample.clientCpuUs / Math.max(1, sample.committed))).toFixed(0),
      median(group.map((sample) => sample.serverCpuUs / Math.max(1, sample.committed))).toFixed(0),
      group.map((sample) => sample.retries).join(" / "),
      String(group.reduce((sum, sample) => sum + sample.failed, 0)),
    ]);
  }
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  for (const [index, row] of rows.entries()) {
    console.log(row.map((cell, column) => (column >= 3 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join("  "));
    if (index === 0) console.log(widths.map((width) => "-".repeat(width)).join("  "));
  }
}

// ---------------------------------------------------------------------------------------------
// Behaviour checks: what each library does with the things the store depends on.

async function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: Record<string, unknown> & Error }> {
  try {
    return { value: await promise };
  } catch (error) {
    return { error: error as Record<string, unknown> & Error };
  }
}

function describeError(error: (Record<string, unknown> & Error) | undefined): string {
  if (!error) return "no error";
  const constraint = error.constraint ?? error.constraint_name;
  return `${error.constructor.name} code=${String(error.code)}${constraint ? ` constraint=${String(constraint)}` : ""}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function checkNodePostgres(url: string, kill: (pid: number) => Promise<void>): Promise<void> {
  console.log("\npg (node-postgres 8.23.1)");
  const plain = new pg.Client({ connectionString: url });
  await plain.connect();
  const big = await plain.query("SELECT 1700000000000::bigint AS ms, count(*) AS n FROM tasks");
  console.log(`  int8 by default: ${typeof big.rows[0].ms} (${JSON.stringify(big.rows[0].ms)}); count(*): ${typeof big.rows[0].n}`);
  await plain.end();

  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const unique = await settle(pool.query("INSERT INTO promises (id, state, tags, timeout_at, created_on) VALUES ('seed-1', 'x', '{}', 0, 0)"));
  console.log(`  unique violation: ${describeError(unique.error)}`);

  // Write skew under SERIALIZABLE: each reads what the other writes.
  const [a, b] = [await pool.connect(), await pool.connect()];
  for (const c of [a, b]) await c.query("BEGIN ISOLATION LEVEL SERIALIZABLE");
  await a.query("SELECT count(*) FROM tasks WHERE promise_id = 'skew'");
  await b.query("SELECT count(*) FROM tasks WHERE promise_id = 'skew'");
  await a.query("INSERT INTO tasks (id, promise_id, state, version, created_on) VALUES ('skew-a', 'skew', 'x', 1, 0)");
  await b.query("INSERT INTO tasks (id, promise_id, state, version, created_on) VALUES ('skew-b', 'skew', 'x', 1, 0)");
  await a.query("COMMIT");
  const skew = await settle(b.query("COMMIT"));
  console.log(`  serialization failure: ${describeError(skew.error)}`);
  await b.query("ROLLBACK").catch(() => {});

  // Deadlock: each locks a row, then wants the other's.
  for (const c of [a, b]) await c.query("BEGIN");
  await a.query("UPDATE promises SET state = state WHERE id = 'seed-2'");
  await b.query("UPDATE promises SET state = state WHERE id = 'seed-3'");
  const outcomes = await Promise.all([
    settle(a.query("UPDATE promises SET state = state WHERE id = 'seed-3'")),
    settle(b.query("UPDATE promises SET state = state WHERE id = 'seed-2'")),
  ]);
  console.log(`  deadlock: ${outcomes.map((outcome) => describeError(outcome.error)).join("; ")}`);
  for (const c of [a, b]) await c.query("ROLLBACK");

  // Savepoints are plain statements on the checked-out connection.
  await a.query("BEGIN");
  await a.query("SAVEPOINT request_1");
  const inSavepoint = await settle(a.query("INSERT INTO promises (id, state, tags, timeout_at, created_on) VALUES ('seed-4', 'x', '{}', 0, 0)"));
  await a.query("ROLLBACK TO SAVEPOINT request_1");
  await a.query("INSERT INTO tasks (id, promise_id, state, version, created_on) VALUES ('after-savepoint-pg', 'p', 'x', 1, 0)");
  await a.query("COMMIT");
  const kept = await pool.query("SELECT count(*)::int AS n FROM tasks WHERE id = 'after-savepoint-pg'");
  console.log(`  savepoint: failed statement (${describeError(inSavepoint.error)}) rolled back to the savepoint, the rest committed: ${kept.rows[0].n === 1}`);
  a.release();
  b.release();
  await pool.end();

  // LISTEN on a dedicated client; its connection is then killed from the server side.
  const listener = new pg.Client({ connectionString: url });
  await listener.connect();
  const received: string[] = [];
  const events: string[] = [];
  listener.on("notification", (message) => received.push(message.payload ?? ""));
  listener.on("error", (error) => events.push(`error ${(error as { code?: string }).code ?? error.message}`));
  listener.on("end", () => events.push("end"));
  await listener.query("LISTEN resonate_check");
  const notifier = new pg.Client({ connectionString: url });
  await notifier.connect();
  await notifier.query("NOTIFY resonate_check, 'before'");
  await sleep(200);
  const pid = (listener as unknown as { processID: number }).processID;
  await kill(pid);
  await sleep(1500);
  await notifier.query("NOTIFY resonate_check, 'after'");
  await sleep(500);
  console.log(
    `  LISTEN/NOTIFY: got ${JSON.stringify(received)}; after the backend was terminated: events ${JSON.stringify(events)}, ` +
      "no reconnection (the caller must reconnect and LISTEN again)",
  );
  await notifier.end();
  await listener.end().catch(() => {});
}

async function checkPostgresJs(url: string, kill: (pid: number) => Promise<void>): Promise<void> {
  console.log("\npostgres (Postgres.js 4.2.0)");
  const plain = postgres(url, { max: 4, onnotice: () => {} });
  const [big] = await plain`SELECT 1700000000000::bigint AS ms, count(*) AS n FROM tasks`;
  console.log(`  int8 by default: ${typeof big!.ms} (${JSON.stringify(big!.ms)}); count(*): ${typeof big!.n}`);

  const unique = await settle(plain`INSERT INTO promises (id, state, tags, timeout_at, created_on) VALUES ('seed-1', 'x', '{}', 0, 0)`);
  console.log(`  unique violation: ${describeError(unique.error)}`);

  // Write skew under SERIALIZABLE, on two reserved connections with BEGIN sent by our code.
  const [a, b] = [await plain.reserve(), await plain.reserve()];
  for (const c of [a, b]) await c.unsafe("BEGIN ISOLATION LEVEL SERIALIZABLE");
  await a`SELECT count(*) FROM tasks WHERE promise_id = 'skew2'`;
  await b`SELECT count(*) FROM tasks WHERE promise_id = 'skew2'`;
  await a`INSERT INTO tasks (id, promise_id, state, version, created_on) VALUES ('skew2-a', 'skew2', 'x', 1, 0)`;
  await b`INSERT INTO tasks (id, promise_id, state, version, created_on) VALUES ('skew2-b', 'skew2', 'x', 1, 0)`;
  await a.unsafe("COMMIT");
  const skew = await settle(b.unsafe("COMMIT"));
  console.log(`  serialization failure: ${describeError(skew.error)} (BEGIN/COMMIT by hand on a reserved connection work)`);
  await settle(b.unsafe("ROLLBACK"));

  for (const c of [a, b]) await c.unsafe("BEGIN");
  await a`UPDATE promises SET state = state WHERE id = 'seed-2'`;
  await b`UPDATE promises SET state = state WHERE id = 'seed-3'`;
  const outcomes = await Promise.all([
    settle(a`UPDATE promises SET state = state WHERE id = 'seed-3'`),
    settle(b`UPDATE promises SET state = state WHERE id = 'seed-2'`),
  ]);
  console.log(`  deadlock: ${outcomes.map((outcome) => describeError(outcome.error)).join("; ")}`);
  for (const c of [a, b]) await settle(c.unsafe("ROLLBACK"));
  a.release();
  b.release();

  const onPool = await settle(plain.unsafe("BEGIN"));
  console.log(`  BEGIN on the pool (not reserved): ${describeError(onPool.error)}`);

  // Savepoints: by hand on a reserved connection, and the library's own inside sql.begin.
  const r = await plain.reserve();
  await r.unsafe("BEGIN");
  await r.unsafe("SAVEPOINT request_1");
  const manual = await settle(r`INSERT INTO promises (id, state, tags, timeout_at, created_on) VALUES ('seed-4', 'x', '{}', 0, 0)`);
  await r.unsafe("ROLLBACK TO SAVEPOINT request_1");
  await r`INSERT INTO tasks (id, promise_id, state, version, created_on) VALUES ('after-savepoint-js-manual', 'p', 'x', 1, 0)`;
  const manualCommit = await settle(r.unsafe("COMMIT"));
  r.release();
  await plain.begin(async (tx) => {
    await tx.savepoint(async (sp) => {
      await sp`INSERT INTO promises (id, state, tags, timeout_at, created_on) VALUES ('seed-4', 'x', '{}', 0, 0)`;
    }).catch(() => {});
    await tx`INSERT INTO tasks (id, promise_id, state, version, created_on) VALUES ('after-savepoint-js', 'p', 'x', 1, 0)`;
  });
  const [kept] = await plain`SELECT count(*)::int AS n FROM tasks WHERE id IN ('after-savepoint-js', 'after-savepoint-js-manual')`;
  console.log(
    `  savepoint: by hand on a reserved connection (${describeError(manual.error)}, commit ${manualCommit.error ? describeError(manualCommit.error) : "ok"}) ` +
      `and with tx.savepoint(): both transactions committed their other rows: ${kept!.n === 2}`,
  );

  // LISTEN: the library keeps a dedicated connection and re-listens after losing it.
  const listener = postgres(url, { max: 1, onnotice: () => {} });
  const received: string[] = [];
  let listens = 0;
  await listener.listen("resonate_check", (payload) => received.push(payload), () => listens++);
  await plain`NOTIFY resonate_check, 'before'`;
  await sleep(200);
  const [listening] = await plain`SELECT pid FROM pg_stat_activity WHERE query ILIKE 'listen%resonate_check%' AND pid <> pg_backend_pid()`;
  if (listening) await kill(listening.pid as number);
  // Its reconnection backs off; give it a few seconds.
  let after = false;
  for (let i = 0; i < 50 && !after; i++) {
    await sleep(200);
    await plain`NOTIFY resonate_check, 'after'`;
    after = received.includes("after");
  }
  console.log(`  LISTEN/NOTIFY: got ${JSON.stringify([...new Set(received)])}; listen callbacks (connects): ${listens}; reconnected by itself: ${after}`);
  await listener.end({ timeout: 1 });
  await plain.end({ timeout: 1 });
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const libraries = flags.libraries.split(",") as LibraryName[];
  const pgServer = await startPostgres({ fsync: flags.fsync });
  try {
    console.log(`PostgreSQL ${await pgServer.psql("SHOW server_version")}, fsync ${flags.fsync ? "on" : "off"}, ${SECONDS} s per run, ${ROUNDS} rounds`);
    await pgServer.psql(SCHEMA);
    const postmaster = pgServer.pid;
    const samples: Sample[] = [];
    const shapes: Array<[Isolation, number]> = [];
    for (const callers of [1, 8, 16]) for (const isolation of ["SERIALIZABLE", "READ COMMITTED"] as Isolation[]) shapes.push([isolation, callers]);
    for (let round = 1; round <= ROUNDS; round++) {
      // Alternate which library goes first, so neither always meets the fuller tables.
      const order = round % 2 === 1 ? libraries : [...libraries].reverse();
      for (const name of order) {
        const library = openLibrary(name, pgServer.url);
        // Warm-up: connections opened, statements prepared, V8 done compiling the hot paths.
        // Postgres.js takes 2-3 s after its pool opens to reach full speed (seen: 860 → 3900
        // tx/s in 500 ms slices); a shorter warm-up charges that to whichever shape comes first.
        await measure(library, "SERIALIZABLE", 1, 1.5, 0, postmaster);
        await measure(library, "READ COMMITTED", 8, 1.5, 0, postmaster);
        for (const [isolation, callers] of shapes) samples.push(await measure(library, isolation, callers, SECONDS, round, postmaster));
        await library.close();
        process.stderr.write(`round ${round}: ${name} done\n`);
      }
    }
    console.log();
    report(samples);
    if (!flags["skip-checks"]) {
      const kill = async (pid: number) => {
        await pgServer.psql(`SELECT pg_terminate_backend(${pid})`);
      };
      await checkNodePostgres(pgServer.url, kill);
      await checkPostgresJs(pgServer.url, kill);
    }
  } finally {
    await pgServer.stop();
  }
}

await main();
