import { Command, Option } from "commander";
import { ZodError } from "zod";
import { resolveConfig } from "./config";
import { createLogger } from "./logger";
import { startServer } from "./server";
import { DatabaseOpenError } from "./store/open-error";
import { ConfigurationError } from "./api/auth";

// Process entry: flags and environment → config → server; SIGINT/SIGTERM close it gracefully.
// Environment names follow the reference server's RESONATE_<SECTION>__<KEY> convention.

const program = new Command()
  .name("resonate-compat-server")
  .description("A Resonate-compatible durable promise server (protocol 2026-04-01)")
  .addOption(new Option("--host <host>", "address to listen on").env("RESONATE_SERVER__HOST").default("127.0.0.1"))
  .addOption(new Option("--port <port>", "port to listen on (0 = any free port)").env("RESONATE_SERVER__PORT").default("8001"))
  .addOption(new Option("--storage-type <type>", "where the state lives: sqlite (one server) or postgres (any number of replicas)").choices(["sqlite", "postgres"]).env("RESONATE_STORAGE__TYPE").default("sqlite"))
  .addOption(new Option("--db <path>", "SQLite database file, or :memory:").env("RESONATE_STORAGE__SQLITE__PATH").default("./resonate.db"))
  .addOption(new Option("--storage-postgres-url <url>", "PostgreSQL connection URL, with --storage-type postgres").env("RESONATE_STORAGE__POSTGRES__URL"))
  .addOption(new Option("--storage-postgres-pool-size <n>", "PostgreSQL connections per replica").env("RESONATE_STORAGE__POSTGRES__POOL_SIZE").default("10"))
  .addOption(new Option("--replica-id <name>", "this server's name among the replicas of one PostgreSQL database (default: random)").env("RESONATE_CLUSTER__REPLICA_ID"))
  .addOption(new Option("--replica-timeout <ms>", "a replica silent this long is taken for dead by the others").env("RESONATE_CLUSTER__REPLICA_TIMEOUT").default("5000"))
  .addOption(new Option("--url <url>", "external URL put in execute messages (default http://host:port)").env("RESONATE_SERVER__URL"))
  .addOption(new Option("--sync <mode>", "SQLite synchronous mode: normal survives a crash, full also power loss").choices(["normal", "full"]).env("RESONATE_STORAGE__SQLITE__SYNC").default("normal"))
  .addOption(new Option("--retry-timeout <ms>", "re-send the execute of a pending task after this long").env("RESONATE_TASKS__RETRY_TIMEOUT").default("30000"))
  .addOption(new Option("--timeouts-interval <ms>", "period of the timeout pass").env("RESONATE_TIMEOUTS__POLL_INTERVAL").default("1000"))
  .addOption(new Option("--max-connections <n>", "open poll streams allowed").env("RESONATE_TRANSPORTS__HTTP_POLL__MAX_CONNECTIONS").default("1000"))
  .addOption(new Option("--buffer-size <n>", "messages a poll stream may have waiting before it is cut off").env("RESONATE_TRANSPORTS__HTTP_POLL__BUFFER_SIZE").default("100"))
  .addOption(new Option("--disconnect-grace <ms>", "take back a disconnected process's leases after this long (0 = only by ttl)").env("RESONATE_TASKS__DISCONNECT_GRACE").default("2000"))
  .addOption(new Option("--empty-heartbeat <mode>", "a heartbeat naming no task renews every lease of its process (renew) or nothing (ignore)").choices(["renew", "ignore"]).env("RESONATE_TASKS__EMPTY_HEARTBEAT").default("renew"))
  .addOption(new Option("--strict", "the reference's latest-revision rules: lineage/origin checks, no '.' in schedule ids, empty heartbeat → 400, timeouts only for promises with a target (breaks SDK traffic; for differential tests)").env("RESONATE_STRICT"))
  .addOption(new Option("--reoffer-after <ms>", "offer an execute nobody acquired to another worker after this long (0 = off)").env("RESONATE_TASKS__REOFFER_AFTER").default("1000"))
  .addOption(new Option("--cors-allow-origin <origin...>", "allow browsers from these origins ('*' for any)").env("RESONATE_SERVER__CORS_ALLOW_ORIGIN"))
  .addOption(new Option("--body-limit <bytes>", "largest request body").env("RESONATE_SERVER__BODY_LIMIT").default(String(2 * 1024 * 1024)))
  .addOption(new Option("--debug", "enable debug.* operations and resonate:debug_time (tests only)").env("RESONATE_DEBUG"))
  .addOption(new Option("--auth-publickey <path>", "require JWTs verified by this PEM public key (or 'none': unsigned)").env("RESONATE_AUTH__PUBLICKEY"))
  .addOption(new Option("--auth-iss <issuer>", "required token issuer").env("RESONATE_AUTH__ISS"))
  .addOption(new Option("--auth-aud <audience>", "required token audience").env("RESONATE_AUTH__AUD"))
  .addOption(new Option("--observability-metrics-port <port>", "also serve GET /metrics on this port (0 = only on the main port)").env("RESONATE_OBSERVABILITY__METRICS_PORT").default("0"))
  .addOption(new Option("--history <mode>", "record every task's dispatch history").choices(["on", "off"]).env("RESONATE_HISTORY__MODE").default("on"))
  .addOption(new Option("--history-retention <duration>", "prune history events older than this (ms, or 30s, 12h, 7d…)").env("RESONATE_HISTORY__RETENTION").default("7d"))
  .addOption(new Option("--history-max-events <n>", "keep at most about this many history events").env("RESONATE_HISTORY__MAX_EVENTS").default("1000000"))
  .addOption(new Option("--log-level <level>", "log level").choices(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).env("RESONATE_LOG_LEVEL").default("info"))
  .showHelpAfterError();

/** Repeated flags arrive as a list; the environment variable as one comma-separated string. */
function corsOrigins(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap((v: string) => v.split(","));
  return typeof value === "string" ? value.split(",").filter(Boolean) : [];
}

/**
 * A boolean flag that may come from its environment variable. Commander turns such a flag on when
 * the variable merely exists, so RESONATE_STRICT=false would switch strict mode on: read the value.
 */
function switchOn(option: string, envVar: string): boolean {
  if (program.getOptionValueSource(option) !== "env") return program.getOptionValue(option) === true;
  return /^(1|true|yes|on)$/i.test(process.env[envVar] ?? "");
}

async function main(): Promise<void> {
  const flags = program.parse().opts<Record<string, string | boolean | undefined>>();
  let config;
  try {
    config = resolveConfig({
      host: flags.host as string,
      port: flags.port as string,
      storageType: flags.storageType as "sqlite" | "postgres",
      db: flags.db as string,
      storagePostgresUrl: flags.storagePostgresUrl as string | undefined,
      storagePostgresPoolSize: flags.storagePostgresPoolSize as string,
      replicaId: flags.replicaId as string | undefined,
      replicaTimeout: flags.replicaTimeout as string,
      url: flags.url as string | undefined,
      sync: flags.sync as "normal" | "full",
      retryTimeout: flags.retryTimeout as string,
      timeoutsInterval: flags.timeoutsInterval as string,
      maxConnections: flags.maxConnections as string,
      bufferSize: flags.bufferSize as string,
      bodyLimit: flags.bodyLimit as string,
      disconnectGrace: flags.disconnectGrace as string,
      reofferAfter: flags.reofferAfter as string,
      emptyHeartbeat: flags.emptyHeartbeat as "renew" | "ignore",
      strict: switchOn("strict", "RESONATE_STRICT"),
      corsAllowOrigin: corsOrigins(flags.corsAllowOrigin),
      debug: flags.debug === true || flags.debug === "true" || flags.debug === "1",
      logLevel: flags.logLevel as "info",
      observabilityMetricsPort: flags.observabilityMetricsPort as string,
      history: flags.history as "on" | "off",
      historyRetention: flags.historyRetention as string,
      historyMaxEvents: flags.historyMaxEvents as string,
      authPublicKey: flags.authPublickey as string | undefined,
      authIss: flags.authIss as string | undefined,
      authAud: flags.authAud as string | undefined,
    } as Parameters<typeof resolveConfig>[0]);
  } catch (error) {
    if (error instanceof ZodError) {
      const problems = error.issues.map((i) => `--${String(i.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${i.message}`);
      program.error(`invalid configuration:\n  ${problems.join("\n  ")}`);
    }
    throw error;
  }

  const logger = createLogger(config.logLevel);
  let server;
  try {
    server = await startServer({ ...config, logger });
  } catch (error) {
    // Problems an operator can fix get one line; anything else keeps its stack for a bug report.
    const known = error instanceof DatabaseOpenError || error instanceof ConfigurationError ||
      ["EADDRINUSE", "EACCES", "EADDRNOTAVAIL"].includes((error as { code?: string }).code ?? "");
    const message = known ? (error as Error).message : String((error as Error).stack ?? error);
    logger.fatal(message);
    logger.flush?.();
    process.exitCode = 1;
    return;
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      logger.error("shutdown took longer than 10 s; exiting");
      process.exit(1);
    }, 10_000);
    force.unref();
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

void main();
