import { randomBytes } from "node:crypto";
import { type Clock, systemClock } from "./clock";
import { ResonateConfigError } from "./errors";
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_RETRY, type RetryPolicy } from "./http-client";
import { ConsoleLogger, type Logger, type LogLevel } from "./logger";

// The constructor options of Resonate, checked once and frozen. Every default is here.

export interface ResonateConfig {
  /** Base url of the server, e.g. http://127.0.0.1:8001. Required: this SDK has no in-process mode. */
  url?: string;
  /** The group this process joins; tasks targeted at `poll://any@<group>` may come here. */
  group?: string;
  /** This process's id within the group; default: 32 random hex characters. */
  pid?: string;
  /** Lease length in ms asked for each acquired task; heartbeats go every ttl/2. */
  ttl?: number;
  /** Bearer token (sent as `Authorization` and as `head.auth`). */
  token?: string;
  /** Most functions this process runs at once; further executes wait in a local queue, unacquired. */
  concurrency?: number;
  logLevel?: LogLevel;
  logger?: Logger;
  /** Per-request timeout in ms (time queued for a connection included). */
  requestTimeout?: number;
  /**
   * Most connections to the server this process opens for its requests (default 32; the poll stream
   * is separate). Connections are kept alive and reused; when all are busy, requests queue in the SDK
   * instead of each opening a socket, which under load used to mean hundreds of sockets.
   */
  maxConnections?: number;
  /**
   * How this process talks to the server (default "http"):
   * - "http": one POST per request over a pool of `maxConnections` keep-alive connections, and an SSE
   *   stream (GET /poll/<group>/<pid>) for the pushed messages. Works with any Resonate server.
   * - "websocket": one WebSocket, the channel (GET /ws/<group>/<pid>), carries the requests, their
   *   answers and the pushed messages, everything of one event-loop turn in one frame. Cheaper at high
   *   rates (far fewer syscalls per call). Only our server has the channel, not the reference server:
   *   against a server without it, the upgrade is refused, logged with its HTTP status, and retried,
   *   and no request gets through.
   */
  transport?: TransportKind;
  /** Retries of requests that got no protocol answer. */
  retry?: Partial<RetryPolicy>;
  /** How often outstanding result() waits re-register their listener (recovers a lost unblock). */
  listenerRefreshInterval?: number;
  /** How long a waiting result() pauses before re-trying a listener registration the server did not answer. */
  listenerRetryDelay?: number;
  /** SSE reconnect back-off. */
  reconnect?: { initial: number; max: number };
  clock?: Clock;
}

export type TransportKind = "http" | "websocket";

export interface ResolvedConfig {
  url: string;
  group: string;
  pid: string;
  ttl: number;
  token: string | undefined;
  concurrency: number;
  logger: Logger;
  requestTimeout: number;
  maxConnections: number;
  transport: TransportKind;
  retry: RetryPolicy;
  listenerRefreshInterval: number;
  listenerRetryDelay: number;
  reconnect: { initial: number; max: number };
  clock: Clock;
}

export function resolveConfig(config: ResonateConfig): Readonly<ResolvedConfig> {
  if (config.url === undefined || config.url === "") {
    throw new ResonateConfigError(
      "Resonate needs a server url: new Resonate({ url: \"http://127.0.0.1:8001\" }). " +
        "(This SDK always talks to a server; it has no in-process mode.)",
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(config.url);
  } catch {
    throw new ResonateConfigError(`Invalid server url "${config.url}"`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new ResonateConfigError(`The server url must be http(s) (got "${config.url}")`);
  }
  const group = config.group ?? "default";
  if (group === "") throw new ResonateConfigError("group must not be empty");
  const pid = config.pid ?? randomBytes(16).toString("hex");
  if (pid === "") throw new ResonateConfigError("pid must not be empty");
  const ttl = positiveInt("ttl", config.ttl ?? 60_000);
  const concurrency = config.concurrency ?? Number.POSITIVE_INFINITY;
  if (!(concurrency === Number.POSITIVE_INFINITY || (Number.isInteger(concurrency) && concurrency >= 1))) {
    throw new ResonateConfigError(`concurrency must be a positive integer (got ${concurrency})`);
  }
  const maxConnections = config.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  if (!Number.isInteger(maxConnections) || maxConnections < 1) {
    throw new ResonateConfigError(`maxConnections must be a positive integer (got ${maxConnections})`);
  }
  const transport = config.transport ?? "http";
  if (transport !== "http" && transport !== "websocket") {
    throw new ResonateConfigError(`transport must be "http" or "websocket" (got ${JSON.stringify(transport)})`);
  }
  const retry = { ...DEFAULT_RETRY, ...config.retry };
  if (!Number.isInteger(retry.attempts) || retry.attempts < 1) throw new ResonateConfigError(`retry.attempts must be a positive integer (got ${retry.attempts})`);
  return Object.freeze({
    url: config.url.replace(/\/+$/, ""),
    group,
    pid,
    ttl,
    token: config.token,
    concurrency,
    logger: config.logger ?? new ConsoleLogger(config.logLevel ?? "warn"),
    requestTimeout: positiveInt("requestTimeout", config.requestTimeout ?? 10_000),
    maxConnections,
    transport,
    retry,
    listenerRefreshInterval: positiveInt("listenerRefreshInterval", config.listenerRefreshInterval ?? 60_000),
    listenerRetryDelay: positiveInt("listenerRetryDelay", config.listenerRetryDelay ?? 5_000),
    reconnect: config.reconnect ?? { initial: 1_000, max: 30_000 },
    clock: config.clock ?? systemClock,
  });
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new ResonateConfigError(`${name} must be a positive integer of ms (got ${value})`);
  return value;
}
