import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { ProtocolHandler } from "./api/protocol-handler";
import { buildApp } from "./app";
import { Authenticator } from "./api/auth";
import { TimeoutLoop } from "./background/timeout-loop";
import { type Clock, SystemClock } from "./clock";
import { type ServerConfig, type ServerOptions, resolveConfig } from "./config";
import { Dispatcher } from "./delivery/dispatcher";
import { DisconnectRecovery } from "./delivery/disconnect-recovery";
import { createHttpPush } from "./delivery/http-push";
import { PollRegistry } from "./delivery/registry";
import { createLogger } from "./logger";
import { GroupCommit } from "./store/group-commit";
import { SqliteStore } from "./store/sqlite/sqlite-store";
import type { Store } from "./store/store";

export interface RunningServer {
  /** Base URL the server listens on, e.g. http://127.0.0.1:8001. */
  url: string;
  config: ServerConfig;
  app: FastifyInstance;
  store: Store;
  registry: PollRegistry;
  timeouts: TimeoutLoop;
  dispatcher: Dispatcher;
  recovery: DisconnectRecovery;
  /** The request batches' group commit (its stats show how many requests shared a transaction). */
  commits: GroupCommit<unknown>;
  /** Stops accepting, ends streams, stops the loops, checkpoints and closes the database. */
  close(): Promise<void>;
}

export interface StartOptions extends ServerOptions {
  clock?: Clock;
  logger?: Logger;
}

/** Opens the database, builds the app, starts the background loops and listens. */
export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const { clock = new SystemClock(), logger: givenLogger, ...rest } = options;
  const config = resolveConfig(rest);
  const logger = givenLogger ?? createLogger(config.logLevel);
  const auth = config.authPublicKey === undefined
    ? undefined
    : Authenticator.fromOptions({ publicKey: config.authPublicKey, issuer: config.authIss, audience: config.authAud });
  const store = SqliteStore.open(config.db, {
    synchronous: config.sync,
    onCheckpointError: (message) => logger.warn({ db: config.db, err: message }, "WAL checkpoint failed; retrying"),
  });

  const registry = new PollRegistry();
  let serverUrl = config.url ?? `http://${config.host}:${config.port}`;
  const dispatcher = new Dispatcher({
    store,
    registry,
    clock,
    reofferAfter: config.reofferAfter,
    logger: logger.child({ component: "dispatcher" }),
    get serverUrl() {
      return serverUrl;
    },
    push: createHttpPush(logger.child({ component: "push" })),
  });
  const timeouts = new TimeoutLoop({
    store,
    clock,
    logger: logger.child({ component: "timeouts" }),
    retryTimeout: config.retryTimeout,
    interval: config.timeoutsInterval,
    onCommit: () => dispatcher.kick(),
  });
  const recovery = new DisconnectRecovery({
    store,
    registry,
    clock,
    logger: logger.child({ component: "recovery" }),
    retryTimeout: config.retryTimeout,
    graceMs: config.disconnectGrace,
    onCommit: () => dispatcher.kick(),
  });
  // Requests of one event-loop turn share a transaction, which also claims the messages they
  // queued: those leave right after the commit, before the answers.
  const commits = new GroupCommit(store, {
    beforeCommit: (tx) => dispatcher.claim(tx),
    afterCommit: (claimed) => dispatcher.deliverAll(claimed),
  });
  const handler = new ProtocolHandler({
    commits,
    clock,
    logger: logger.child({ component: "protocol" }),
    retryTimeout: config.retryTimeout,
    emptyHeartbeat: config.emptyHeartbeat,
    debug: config.debug,
    auth,
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

  const app = await buildApp({
    logger,
    store,
    handler,
    bodyLimit: config.bodyLimit,
    corsOrigins: config.corsAllowOrigin,
    poll: {
      registry,
      auth,
      logger: logger.child({ component: "poll" }),
      maxConnections: config.maxConnections,
      bufferSize: config.bufferSize,
      bufferBytes: config.bufferBytes,
      keepaliveInterval: config.keepaliveInterval,
      onOpen: (connection) => {
        recovery.opened(connection);
        dispatcher.connected(connection);
      },
      onClose: (connection) => {
        recovery.closed(connection);
        dispatcher.disconnected(connection);
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
    store.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  if (config.url === undefined) serverUrl = url;
  timeouts.start();
  dispatcher.start();
  dispatcher.kick(); // messages left in the outbox by a previous run
  logger.info({ url, db: config.db, debug: config.debug, auth: auth !== undefined }, "server listening");

  let closing: Promise<void> | undefined;
  return {
    url,
    config,
    app,
    store,
    registry,
    timeouts,
    dispatcher,
    recovery,
    commits,
    close: () =>
      (closing ??= (async () => {
        await app.close();
        store.close();
        logger.info("server stopped");
      })()),
  };
}
