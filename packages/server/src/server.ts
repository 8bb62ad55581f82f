import { randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { ProtocolHandler } from "./api/protocol-handler";
import { buildApp } from "./app";
import { Authenticator } from "./api/auth";
import { TimeoutLoop } from "./background/timeout-loop";
import { Cluster } from "./cluster/cluster";
import { type Clock, SystemClock } from "./clock";
import { type ServerConfig, type ServerOptions, resolveConfig } from "./config";
import type { PollConnection } from "./delivery/connection";
import { type Delivery, Dispatcher } from "./delivery/dispatcher";
import { DisconnectRecovery } from "./delivery/disconnect-recovery";
import { createHttpPush } from "./delivery/http-push";
import { LocalDirectory, localStream } from "./delivery/local-directory";
import { PollRegistry } from "./delivery/registry";
import type { StreamDirectory } from "./delivery/streams";
import { createLogger } from "./logger";
import { registerGroupGauges } from "./observability/group-gauges";
import { Metrics } from "./observability/metrics";
import { listenMetrics } from "./observability/metrics-server";
import type { CommitHooks, Committer } from "./store/commit/committer";
import { GroupCommit } from "./store/commit/group-commit";
import { TransactionPerJob } from "./store/commit/transaction-per-job";
import { PostgresStore } from "./store/postgres/postgres-store";
import { SqliteStore } from "./store/sqlite/sqlite-store";
import type { Store } from "./store/store";

export interface RunningServer {
  /** Base URL the server listens on, e.g. http://127.0.0.1:8001. */
  url: string;
  config: ServerConfig;
  /** This server's name among the replicas of a shared database. */
  replica: string;
  app: FastifyInstance;
  store: Store;
  registry: PollRegistry;
  timeouts: TimeoutLoop;
  dispatcher: Dispatcher;
  recovery: DisconnectRecovery;
  /** Runs every change to the stored state (requests, background passes) and delivers its messages. */
  commits: Committer;
  /** Present with several replicas (PostgreSQL): the other replicas and their streams. */
  cluster?: Cluster;
  /** This server's Prometheus metrics (GET /metrics). */
  metrics: Metrics;
  /** The port of the separate metrics listener, when --observability-metrics-port is set. */
  metricsPort?: number;
  /** Stops accepting, ends streams, stops the loops, and closes the store. */
  close(): Promise<void>;
}

export interface StartOptions extends ServerOptions {
  clock?: Clock;
  logger?: Logger;
}

/** Opens the store, builds the app, starts the background loops and listens. */
export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const { clock = new SystemClock(), logger: givenLogger, ...rest } = options;
  const config = resolveConfig(rest);
  const logger = givenLogger ?? createLogger(config.logLevel);
  const replica = config.replicaId ?? randomBytes(4).toString("hex");
  const auth = config.authPublicKey === undefined
    ? undefined
    : Authenticator.fromOptions({ publicKey: config.authPublicKey, issuer: config.authIss, audience: config.authAud });

  const store = await openStore(config, logger);
  const registry = new PollRegistry();
  const metrics = new Metrics();
  const history = config.history === "on"
    ? { replica, retentionMs: config.historyRetention, maxEvents: config.historyMaxEvents }
    : undefined;
  let cluster: Cluster | undefined;
  let directory: StreamDirectory = new LocalDirectory(replica, registry);
  let serverUrl = config.url ?? `http://${config.host}:${config.port}`;
  const dispatcher = new Dispatcher({
    get directory() {
      return directory;
    },
    clock,
    reofferAfter: config.reofferAfter,
    logger: logger.child({ component: "dispatcher" }),
    get serverUrl() {
      return serverUrl;
    },
    push: createHttpPush(logger.child({ component: "push" })),
    history: history !== undefined,
    metrics,
  });
  // Every change claims the messages it queued inside its own transaction; they leave right after
  // its commit, before the answers.
  const hooks: CommitHooks<Delivery[]> = {
    beforeCommit: (tx) => dispatcher.claim(tx),
    afterCommit: (plan) => dispatcher.deliverAll(plan),
  };
  const observeCommit = (jobs: number, seconds: number) => metrics.committed(jobs, seconds);
  const commits: Committer = store instanceof SqliteStore
    ? new GroupCommit(store, hooks, observeCommit)
    : new TransactionPerJob(store, hooks, observeCommit);
  dispatcher.attach(commits);

  const timeouts = new TimeoutLoop({
    commits,
    clock,
    logger: logger.child({ component: "timeouts" }),
    retryTimeout: config.retryTimeout,
    interval: config.timeoutsInterval,
    strict: config.strict,
    history,
    onPass: (pass) => {
      metrics.leasesLapsed(pass.lapsedTargets);
      metrics.schedulesFired(pass.schedules);
    },
  });
  const recovery = new DisconnectRecovery({
    commits,
    get directory() {
      return directory;
    },
    clock,
    logger: logger.child({ component: "recovery" }),
    retryTimeout: config.retryTimeout,
    graceMs: config.disconnectGrace,
    history,
    metrics,
  });
  const handler = new ProtocolHandler({
    commits,
    clock,
    logger: logger.child({ component: "protocol" }),
    retryTimeout: config.retryTimeout,
    emptyHeartbeat: config.emptyHeartbeat,
    strict: config.strict,
    debug: config.debug,
    auth,
    history,
    metrics,
    onCommit: (kind, data, status) => {
      if (status === 200 && kind === "task.acquire") dispatcher.acquired((data as { id: string }).id);
    },
    loops: {
      pause: () => {
        timeouts.pause();
        dispatcher.pause();
      },
      resume: () => {
        timeouts.resume();
        dispatcher.resume();
      },
    },
  });

  try {
    if (store instanceof PostgresStore) {
      cluster = await Cluster.start({
        store,
        replica,
        registry,
        clock,
        logger: logger.child({ component: "cluster" }),
        replicaTimeout: config.replicaTimeout,
        // Streams of a replica that died: their processes may have reconnected elsewhere; those
        // that have not within the grace lose their leases, as if their stream had closed here.
        onStreamsGone: (pids) => pids.forEach((pid) => recovery.closed(pid)),
        onOutboxRows: () => dispatcher.kick(),
        acceptForwardedExecute: (taskId, version) => dispatcher.acceptForwarded(taskId, version),
      });
      directory = cluster.directory;
    }
    // Time during which no server ran does not count against the leases.
    await timeouts.forgiveDowntime();
  } catch (error) {
    await cluster?.stop();
    await store.close();
    throw error;
  }

  registerGroupGauges({
    metrics,
    store,
    registry,
    directory: () => directory,
    clock,
    logger: logger.child({ component: "metrics" }),
  });
  if (store instanceof PostgresStore) {
    metrics.counterFrom("resonate_store_retries_total", "PostgreSQL transactions run again after a serialisation failure or deadlock", () => store.stats.retries);
  }

  const streamOf = (connection: PollConnection) => localStream(replica, connection);
  const app = await buildApp({
    logger,
    store,
    handler,
    metrics,
    admin: { store, directory: () => directory, clock, auth },
    bodyLimit: config.bodyLimit,
    corsOrigins: config.corsAllowOrigin,
    poll: {
      registry,
      auth,
      clock,
      logger: logger.child({ component: "poll" }),
      maxConnections: config.maxConnections,
      bufferSize: config.bufferSize,
      bufferBytes: config.bufferBytes,
      keepaliveInterval: config.keepaliveInterval,
      onOpen: (connection) => {
        cluster?.opened(connection);
        recovery.opened(connection.id);
        dispatcher.connected(connection);
      },
      onClose: (connection) => {
        cluster?.closed(connection);
        recovery.closed(connection.id);
        dispatcher.disconnected(streamOf(connection));
      },
    },
  });

  app.addHook("preClose", async () => {
    recovery.stop();
    dispatcher.stop();
    // Open streams would keep close() waiting forever: end them so workers reconnect elsewhere.
    for (const connection of registry.all()) connection.close();
  });
  app.addHook("onClose", async () => {
    timeouts.stop();
    dispatcher.stop();
  });

  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await cluster?.stop();
    await store.close();
    throw error;
  }
  let metricsListener: Awaited<ReturnType<typeof listenMetrics>> | undefined;
  if (config.observabilityMetricsPort > 0) {
    try {
      metricsListener = await listenMetrics(metrics, config.host, config.observabilityMetricsPort, logger.child({ component: "metrics" }));
    } catch (error) {
      await app.close();
      await cluster?.stop();
      await store.close();
      throw error;
    }
  }
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  if (config.url === undefined) serverUrl = url;
  timeouts.start();
  dispatcher.start();
  dispatcher.kick(); // messages left in the outbox by a previous run
  logger.info({ url, storage: describeStorage(config), replica, debug: config.debug, auth: auth !== undefined }, "server listening");

  let closing: Promise<void> | undefined;
  return {
    url,
    config,
    replica,
    app,
    store,
    registry,
    timeouts,
    dispatcher,
    recovery,
    commits,
    ...(cluster && { cluster }),
    metrics,
    ...(metricsListener && { metricsPort: metricsListener.port }),
    close: () =>
      (closing ??= (async () => {
        await metricsListener?.close();
        // app.close() waits for every connection to end, and Node closes only the connections idle
        // at that moment: a keep-alive connection busy then stays open until its client's next
        // request (answered 503) or the keep-alive timeout, seconds later. Close each as it idles.
        const closeIdle = setInterval(() => app.server.closeIdleConnections(), 25);
        try {
          await app.close();
        } finally {
          clearInterval(closeIdle);
        }
        await cluster?.stop();
        await store.close();
        logger.info("server stopped");
      })()),
  };
}

async function openStore(config: ServerConfig, logger: Logger): Promise<Store> {
  if (config.storageType === "postgres") {
    return PostgresStore.open(config.storagePostgresUrl!, {
      poolSize: config.storagePostgresPoolSize,
      logger: logger.child({ component: "postgres" }),
    });
  }
  return SqliteStore.open(config.db, {
    synchronous: config.sync,
    onCheckpointError: (message) => logger.warn({ db: config.db, err: message }, "WAL checkpoint failed; retrying"),
  });
}

/** The storage in a log line, without a password. */
function describeStorage(config: ServerConfig): string {
  if (config.storageType === "sqlite") return `sqlite:${config.db}`;
  try {
    const url = new URL(config.storagePostgresUrl!);
    url.password = "";
    return url.toString();
  } catch {
    return "postgres";
  }
}
