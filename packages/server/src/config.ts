import { z } from "zod";

// Every setting of the server, its default and why. Flags and environment variables (main.ts)
// and programmatic callers (startServer) all go through this one schema, then the result is frozen.

const port = z.coerce.number().int().min(0).max(65535);
const positiveMs = z.coerce.number().int().positive();

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** A duration: milliseconds, or a number with a unit (500ms, 30s, 15m, 12h, 7d). */
const duration = z.union([
  z.number().int().positive(),
  z.string().regex(/^\d+(ms|s|m|h|d)?$/, "a duration: milliseconds or a number with ms, s, m, h or d").transform((text) => {
    const [, n, unit] = /^(\d+)(ms|s|m|h|d)?$/.exec(text)!;
    return Number(n) * UNITS[unit ?? "ms"]!;
  }),
]);

export const configSchema = z.object({
  /** Loopback by default: a development server should not be reachable from the network unasked. */
  host: z.string().min(1).default("127.0.0.1"),
  /** The port the reference server and the SDKs default to. */
  port: port.default(8001),
  /**
   * Where the state lives: "sqlite" (embedded, one server per file: the default) or "postgres"
   * (any number of server replicas on one database).
   */
  storageType: z.enum(["sqlite", "postgres"]).default("sqlite"),
  /** SQLite file, or ":memory:" for a throwaway server. */
  db: z.string().min(1).default("./resonate.db"),
  /** PostgreSQL connection URL (postgres://user:password@host:port/database), for storageType "postgres". */
  storagePostgresUrl: z.string().min(1).optional(),
  /** Connections to PostgreSQL per replica (the reference's default). */
  storagePostgresPoolSize: z.coerce.number().int().positive().default(10),
  /**
   * This replica's name among the servers sharing a PostgreSQL database (logs, metrics, where a
   * stream is held). Random when not given; must be unique among live replicas.
   */
  replicaId: z.string().min(1).max(64).regex(/^[A-Za-z0-9_.:-]+$/, "letters, digits and _ . : - only").optional(),
  /** A replica that has not renewed its presence for this long is taken for dead by the others. */
  replicaTimeout: positiveMs.default(5_000),
  /** External URL put in execute messages (head.serverUrl); defaults to http://host:port. */
  url: z.string().url().optional(),
  /** synchronous=NORMAL survives a process crash; FULL also survives power loss, at a cost per commit. */
  sync: z.enum(["normal", "full"]).default("normal"),
  /** How long a pending task waits before its execute is sent again (reference default). */
  retryTimeout: positiveMs.default(30_000),
  /** Period of the timeout pass: promise deadlines, retries, leases, schedules (reference default). */
  timeoutsInterval: positiveMs.default(1_000),
  /** Open poll streams allowed at once, across groups (reference default). */
  maxConnections: z.coerce.number().int().positive().default(1000),
  /** Messages a poll stream may have queued before the server gives up on that worker. */
  bufferSize: z.coerce.number().int().positive().default(100),
  /** Bytes a poll stream may have waiting before the server gives up on that worker. */
  bufferBytes: z.coerce.number().int().positive().default(8 * 1024 * 1024),
  /** SSE comment sent on idle streams so that proxies keep them open (spec C7). */
  keepaliveInterval: positiveMs.default(15_000),
  /**
   * A process whose poll stream closed and did not come back within this many ms loses its leases
   * at once instead of after its ttl. Longer than the SDKs' first reconnect back-off (1 s). 0 = off.
   */
  disconnectGrace: z.coerce.number().int().min(0).default(2_000),
  /**
   * A heartbeat with an empty task list (SDK 0.10.0–0.11.4) renews every lease its process holds
   * ("renew"), or nothing, as the reference's latest revision ("ignore"). Spec §13 C2.
   */
  emptyHeartbeat: z.enum(["renew", "ignore"]).default("renew"),
  /**
   * The reference's latest-revision rules instead of the compatible defaults (spec §13 C1–C4):
   * lineage and same-origin checks, no "." in schedule ids, 400 on a heartbeat naming no task
   * (emptyHeartbeat then never applies), background timeouts only for promises with a target.
   * For differential testing against the reference: ordinary SDK traffic breaks these rules.
   */
  strict: z.boolean().default(false),
  /** An execute a worker has not acquired after this many ms is offered to another worker. 0 = off. */
  reofferAfter: z.coerce.number().int().min(0).default(1_000),
  /** Origins allowed by CORS (browser SDKs); none by default, "*" for any (spec §2.7). */
  corsAllowOrigin: z.array(z.string().min(1)).default([]),
  /** Request body limit: the reference's 2 MiB (spec §2.6). */
  bodyLimit: z.coerce.number().int().positive().default(2 * 1024 * 1024),
  /** Enables debug.* and resonate:debug_time (deterministic tests). Never in production. */
  debug: z.coerce.boolean().default(false),
  /** Turns authentication on: a PEM public key file (RSA, EC, Ed25519), or "none" for unsigned tokens. */
  authPublicKey: z.string().min(1).optional(),
  /** When set, tokens must carry this issuer (iss). */
  authIss: z.string().min(1).optional(),
  /** When set, tokens must carry this audience (aud). */
  authAud: z.string().min(1).optional(),
  /**
   * A second port serving only GET /metrics, for deployments that keep the protocol port away from
   * the monitoring network. 0 = none (the default): /metrics is always on the main port, and a
   * fixed default would collide when several servers share a host (replicas, tests, pnpm cluster).
   */
  observabilityMetricsPort: port.default(0),
  /**
   * The dispatch history: every task's events (offered to whom and why, acquired, lapsed, taken
   * back, refused…) written with the change itself. On by default: it costs one small row per
   * event in the same transaction (measured in the README), and it is what explains a re-run.
   */
  history: z.enum(["on", "off"]).default("on"),
  /** Events older than this are pruned by the timeout pass (a week: long enough to look back on an incident). */
  historyRetention: duration.default(7 * 86_400_000),
  /** At most about this many events are kept, whatever their age (a bound on the table's size). */
  historyMaxEvents: z.coerce.number().int().positive().default(1_000_000),
  logLevel: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
});

export type ServerConfig = Readonly<z.output<typeof configSchema>>;
export type ServerOptions = z.input<typeof configSchema>;

export function resolveConfig(options: ServerOptions = {}): ServerConfig {
  const config = configSchema.parse(options);
  if (config.storageType === "postgres" && config.storagePostgresUrl === undefined) {
    throw new z.ZodError([{ code: "custom", path: ["storagePostgresUrl"], message: "required with --storage-type postgres", input: undefined }]);
  }
  return Object.freeze(config);
}
