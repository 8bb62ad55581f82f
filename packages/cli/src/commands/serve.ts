import { type Command, Option } from "commander";
// Types only: the server (Fastify, SQLite, …) is loaded when serve/dev runs, not for every client command.
import type { RunningServer, StartOptions } from "@resonate-compat/server";
import * as arg from "../args";
import { CliError, EXIT } from "../errors";

// resonate serve | dev: our server in this process. Flags take the reference server's names
// (spec §11.2) for the settings our server has, and the same RESONATE_<SECTION>__<KEY>
// environment variables as `pnpm server`; a setting left unset gets the server's own default.
// `dev` is `serve` on an in-memory database.

/** The storage settings the server is getting (PostgreSQL); passed through under these names. */
interface StorageOptions {
  storageType?: string;
  storagePostgresUrl?: string;
  storagePostgresPoolSize?: number;
}

type ServeOptions = StartOptions & StorageOptions;

/** Flag → server option; the table both builds the command and names a flag in an error. */
const FLAGS: { flag: string; key: keyof ServeOptions; env: string; help: string; parse?: (v: string) => unknown; choices?: string[]; many?: boolean }[] = [
  { flag: "--server-host <host>", key: "host", env: "RESONATE_SERVER__HOST", help: "address to listen on (default 127.0.0.1)" },
  { flag: "--server-port <port>", key: "port", env: "RESONATE_SERVER__PORT", help: "port to listen on, 0 for any free port (default 8001)", parse: arg.integer },
  { flag: "--server-url <url>", key: "url", env: "RESONATE_SERVER__URL", help: "external URL put in execute messages (default http://host:port)" },
  { flag: "--server-cors-allow-origin <origin>", key: "corsAllowOrigin", env: "RESONATE_SERVER__CORS_ALLOW_ORIGIN", help: "allow browsers from this origin, '*' for any (repeatable)", many: true },
  { flag: "--server-body-limit <bytes>", key: "bodyLimit", env: "RESONATE_SERVER__BODY_LIMIT", help: "largest request body (default 2 MiB)", parse: arg.positiveInteger },
  { flag: "--storage-sqlite-sync <mode>", key: "sync", env: "RESONATE_STORAGE__SQLITE__SYNC", help: "normal survives a crash of the process, full also power loss", choices: ["normal", "full"] },
  { flag: "--auth-publickey <path>", key: "authPublicKey", env: "RESONATE_AUTH__PUBLICKEY", help: "require JWTs verified by this PEM public key ('none': unsigned tokens)" },
  { flag: "--auth-iss <issuer>", key: "authIss", env: "RESONATE_AUTH__ISS", help: "required token issuer" },
  { flag: "--auth-aud <audience>", key: "authAud", env: "RESONATE_AUTH__AUD", help: "required token audience" },
  { flag: "--tasks-retry-timeout <ms>", key: "retryTimeout", env: "RESONATE_TASKS__RETRY_TIMEOUT", help: "send a pending task's execute again after this long (default 30000)", parse: arg.milliseconds },
  { flag: "--tasks-disconnect-grace <ms>", key: "disconnectGrace", env: "RESONATE_TASKS__DISCONNECT_GRACE", help: "take back a disconnected process's leases after this long, 0: only by ttl (default 2000)", parse: arg.milliseconds },
  { flag: "--tasks-empty-heartbeat <mode>", key: "emptyHeartbeat", env: "RESONATE_TASKS__EMPTY_HEARTBEAT", help: "a heartbeat naming no task renews every lease of its process, or nothing", choices: ["renew", "ignore"] },
  { flag: "--tasks-reoffer-after <ms>", key: "reofferAfter", env: "RESONATE_TASKS__REOFFER_AFTER", help: "offer an execute nobody acquired to another worker after this long, 0: off (default 1000)", parse: arg.milliseconds },
  { flag: "--timeouts-poll-interval <ms>", key: "timeoutsInterval", env: "RESONATE_TIMEOUTS__POLL_INTERVAL", help: "period of the timeout pass (default 1000)", parse: arg.milliseconds },
  { flag: "--transports-http-poll-max-connections <n>", key: "maxConnections", env: "RESONATE_TRANSPORTS__HTTP_POLL__MAX_CONNECTIONS", help: "open poll streams allowed (default 1000)", parse: arg.positiveInteger },
  { flag: "--transports-http-poll-buffer-size <n>", key: "bufferSize", env: "RESONATE_TRANSPORTS__HTTP_POLL__BUFFER_SIZE", help: "messages a stream may have waiting before it is cut off (default 100)", parse: arg.positiveInteger },
  { flag: "--observability-metrics-port <port>", key: "observabilityMetricsPort", env: "RESONATE_OBSERVABILITY__METRICS_PORT", help: "also serve GET /metrics on this port, 0: only on the main port (default 0)", parse: arg.integer },
  { flag: "--history <mode>", key: "history", env: "RESONATE_HISTORY__MODE", help: "record every task's dispatch history (default on)", choices: ["on", "off"] },
  { flag: "--history-retention <ms>", key: "historyRetention", env: "RESONATE_HISTORY__RETENTION", help: "prune history events older than this (default 7d)", parse: arg.milliseconds },
  { flag: "--history-max-events <n>", key: "historyMaxEvents", env: "RESONATE_HISTORY__MAX_EVENTS", help: "keep at most about this many history events (default 1000000)", parse: arg.positiveInteger },
  { flag: "--level <level>", key: "logLevel", env: "RESONATE_LOG_LEVEL", help: "log level (default info)", choices: ["trace", "debug", "info", "warn", "error", "fatal", "silent"] },
];

const POSTGRES_FLAGS: typeof FLAGS = [
  { flag: "--storage-type <type>", key: "storageType", env: "RESONATE_STORAGE__TYPE", help: "sqlite (default) or postgres", choices: ["sqlite", "postgres"] },
  { flag: "--storage-postgres-url <url>", key: "storagePostgresUrl", env: "RESONATE_STORAGE__POSTGRES__URL", help: "PostgreSQL connection URL (with --storage-type postgres)" },
  { flag: "--storage-postgres-pool-size <n>", key: "storagePostgresPoolSize", env: "RESONATE_STORAGE__POSTGRES__POOL_SIZE", help: "PostgreSQL connections (with --storage-type postgres)", parse: arg.positiveInteger },
];

/** How long a graceful shutdown may take before the process exits anyway (the reference's 10 s). */
const SHUTDOWN_TIMEOUT_MS = 10_000;

export function registerServe(program: Command): void {
  const serve = program.command("serve").description("run the server (SQLite file ./resonate.db unless told otherwise)");
  serve.addOption(new Option("--storage-sqlite-path <path>", "SQLite database file (default ./resonate.db)").env("RESONATE_STORAGE__SQLITE__PATH"));
  addServerFlags(serve, [...FLAGS, ...POSTGRES_FLAGS]);
  serve.action((options: Record<string, unknown>) => run(serverOptions(options, options["storageSqlitePath"] as string | undefined)));

  const dev = program.command("dev").description("run the server on an in-memory database, for development");
  // No environment variable here: a RESONATE_STORAGE__SQLITE__PATH meant for `serve` must not make `dev` keep data.
  dev.addOption(new Option("--storage-sqlite-path <path>", "SQLite database file").default(":memory:"));
  addServerFlags(dev, FLAGS);
  dev.action((options: Record<string, unknown>) => run(serverOptions(options, options["storageSqlitePath"] as string)));
}

function addServerFlags(command: Command, flags: typeof FLAGS): void {
  // --server, --token and --json are for the client commands; listing them here would mislead.
  command.configureHelp({ showGlobalOptions: false });
  for (const f of flags) {
    const option = new Option(f.flag, f.help).env(f.env);
    if (f.choices) option.choices(f.choices);
    if (f.parse) option.argParser(f.parse);
    if (f.many) option.argParser(arg.collect);
    command.addOption(option);
  }
  command.addOption(new Option("--debug", "enable debug.* operations and resonate:debug_time (tests only)").env("RESONATE_DEBUG"));
}

/** Commander's option values → startServer options; unset flags stay unset. */
function serverOptions(flags: Record<string, unknown>, db: string | undefined): ServeOptions {
  const options: Record<string, unknown> = {};
  for (const f of [...FLAGS, ...POSTGRES_FLAGS]) {
    const name = optionName(f.flag);
    if (flags[name] !== undefined) options[f.key] = flags[name];
  }
  // Repeated flags arrive as a list; the environment variable as one comma-separated string.
  if (Array.isArray(options["corsAllowOrigin"])) {
    options["corsAllowOrigin"] = (options["corsAllowOrigin"] as string[]).flatMap((o) => o.split(",")).filter(Boolean);
  }
  if (db !== undefined) options["db"] = db;
  if (flags["debug"]) options["debug"] = true;
  return options as ServeOptions;
}

/** "--server-port <port>" → "serverPort", as commander names the value. */
function optionName(flag: string): string {
  return flag.split(" ")[0]!.replace(/^--/, "").replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/** Starts the server and resolves when it has stopped after SIGINT/SIGTERM. */
async function run(options: ServeOptions): Promise<void> {
  const { resolveConfig, startServer } = await import("@resonate-compat/server");
  refuseUnknownStorage(options, resolveConfig);
  let server: RunningServer;
  try {
    server = await startServer(options);
  } catch (error) {
    throw new CliError(`cannot start the server: ${describeStartError(error)}`, EXIT.failed);
  }
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      setTimeout(() => {
        process.stderr.write(`error: shutdown took longer than ${SHUTDOWN_TIMEOUT_MS / 1000}s; exiting\n`);
        process.exit(EXIT.failed);
      }, SHUTDOWN_TIMEOUT_MS).unref();
      server.close().then(resolve, (error: unknown) => {
        process.stderr.write(`error: shutdown failed: ${(error as Error).message}\n`);
        process.exitCode = EXIT.failed;
        resolve();
      });
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}

/**
 * The server's config drops settings it does not know; a PostgreSQL request it dropped would run on
 * SQLite without a word. Until the server knows the storage settings, say so and stop instead.
 */
function refuseUnknownStorage(options: ServeOptions, resolveConfig: (options: ServeOptions) => object): void {
  if (options.storageType === undefined || options.storageType === "sqlite") return;
  let known: boolean;
  try {
    known = "storageType" in resolveConfig(options);
  } catch {
    return; // an invalid setting: startServer reports it with the server's own message
  }
  if (!known) throw new CliError(`cannot start the server: this server does not support --storage-type ${options.storageType} yet`, EXIT.failed);
}

/** Zod's message is a JSON dump of issues; name the flags instead. Anything else: its message. */
function describeStartError(error: unknown): string {
  const e = error as { name?: string; message?: string; issues?: { path: (string | number)[]; message: string }[] };
  if (e.name === "ZodError" && Array.isArray(e.issues)) {
    return e.issues
      .map((issue) => {
        const key = String(issue.path[0]);
        const flag = [...FLAGS, ...POSTGRES_FLAGS].find((f) => f.key === key)?.flag.split(" ")[0] ?? (key === "db" ? "--storage-sqlite-path" : key);
        return `${flag}: ${issue.message}`;
      })
      .join("; ");
  }
  return (e.message ?? String(error)).split("\n")[0]!;
}
