import { anycastAddress, type Message, type PromiseRecord, TAG, type TaskRecord, unicastAddress } from "@resonate-compat/protocol";
import { MAX_EAGER_SLOTS } from "@resonate-compat/protocol/channel";
import { encodeInvocation } from "./codec";
import { type ResolvedConfig, type ResonateConfig, resolveConfig } from "./config";
import type { Context } from "./context";
import { PromiseNotFoundError, ResonateError } from "./errors";
import { type Handle, PromiseHandle } from "./handle";
import { ChannelTransport } from "./channel-transport";
import { AsyncHeartbeat } from "./heartbeat";
import { HttpClient, messageOf } from "./http-client";
import { Listeners } from "./listeners";
import { buildOptions, type CallOptions, type Options, splitArgs } from "./options";
import { type MessageStream, PollConnection, type PollConnectionOptions } from "./poll-connection";
import { type RegisteredFunction, Registry } from "./registry";
import { TaskRunner } from "./task-runner";

// The composition root: builds the parts from the config and wires the poll stream to them.
//   poll stream ──execute──▶ task runner (acquire, run, fulfill; heartbeat and lease checks while running)
//               ──unblock──▶ listeners (resolve result() waits)
//   beginRpc / get ──▶ http client ──▶ handle ──result()──▶ listeners
// With `transport: "websocket"` one channel (one WebSocket) is both the poll stream and the http
// client's transport; otherwise they are the SSE stream and a pool of HTTP connections. Over the
// channel the server also acquires tasks for us while we have room (eager acquire), which the
// channel reports from the task runner's free slots:
//   channel ──acquired task──▶ task runner (run, fulfill; no acquire of its own) ──free slots──▶ channel

export class Resonate {
  readonly url: string;
  readonly group: string;
  readonly pid: string;
  /** Where results for this process are sent: poll://uni@{group}/{pid}. */
  readonly unicast: string;
  /** Where tasks for this process are preferably sent: poll://any@{group}/{pid}. */
  readonly anycast: string;

  private readonly config: Readonly<ResolvedConfig>;
  private readonly http: HttpClient;
  private readonly registry = new Registry();
  private readonly heartbeat: AsyncHeartbeat;
  private readonly runner: TaskRunner;
  private readonly listeners: Listeners;
  private readonly poll: MessageStream;
  private stopped: Promise<void> | undefined;

  /**
   * Connects to the server at once: opens the poll stream of (group, pid), over which tasks and
   * results arrive. Throws a ResonateConfigError without a `url` (there is no in-process mode).
   * Register functions right after constructing, before awaiting anything.
   */
  constructor(config: ResonateConfig) {
    this.config = resolveConfig(config);
    const { url, group, pid, ttl, token, clock, logger } = this.config;
    this.url = url;
    this.group = group;
    this.pid = pid;
    this.unicast = unicastAddress(group, pid);
    this.anycast = anycastAddress(group, pid);

    const pollOptions: PollConnectionOptions = {
      url,
      group,
      pid,
      token,
      clock,
      logger,
      backoff: this.config.reconnect,
      onMessage: (message) => this.onMessage(message),
      // Anything pushed to us while the stream was down is lost: ask again for what we wait on.
      // (The first open also counts: a wait may have registered before the stream was listening.)
      // And the server takes back the leases of a process whose stream stayed closed: check ours.
      onOpen: () => {
        this.listeners.refreshAll();
        this.heartbeat.check();
      },
    };
    const { requestTimeout, maxConnections, retry } = this.config;
    // Over the channel the server acquires tasks for us while we have room (one round trip fewer per task).
    const eager = {
      ttl,
      free: () => this.runner.free(MAX_EAGER_SLOTS),
      onAcquired: (acquired: { task: TaskRecord; promise: PromiseRecord }) => this.runner.onAcquired(acquired),
    };
    const channel = this.config.transport === "websocket" ? new ChannelTransport(pollOptions, eager) : undefined;
    this.http = new HttpClient({ url, token, requestTimeout, maxConnections, transport: channel, retry, clock, logger });
    this.poll = channel?.messages ?? new PollConnection(pollOptions);
    this.heartbeat = new AsyncHeartbeat(pid, Math.max(1, Math.floor(ttl / 2)), this.http, clock, logger, ttl);
    this.runner = new TaskRunner({
      http: this.http,
      registry: this.registry,
      heartbeat: this.heartbeat,
      pid,
      group,
      ttl,
      concurrency: this.config.concurrency,
      logger,
      clock,
      onLoad: () => channel?.slotsChanged(),
    });
    this.listeners = new Listeners({
      http: this.http,
      address: this.unicast,
      clock,
      logger,
      refreshInterval: this.config.listenerRefreshInterval,
      retryDelay: this.config.listenerRetryDelay,
    });
    this.poll.start();
  }

  /**
   * Makes `fn(ctx, ...args)` runnable here under `name` (sync or async). Tasks naming it at this
   * version (default 1) run in this process when the server sends them to its group.
   */
  register<A extends unknown[], R>(name: string, fn: (ctx: Context, ...args: A) => R, options: { version?: number } = {}): void {
    this.registry.add(name, fn as RegisteredFunction, options.version ?? 1);
  }

  /** Options for one call, to pass as the last argument of beginRpc/rpc. */
  options(partial: Partial<CallOptions> = {}): Options {
    return buildOptions(partial);
  }

  /**
   * Starts `name(...args)` on a worker of the target group (last argument: `resonate.options(...)`)
   * as the durable promise `id`, and returns a handle to its result. Idempotent on `id`: if the
   * promise already exists (running or settled) the handle attaches to it; nothing runs twice.
   */
  async beginRpc<T = unknown>(id: string, name: string, ...argsAndOptions: unknown[]): Promise<Handle<T>> {
    const [args, opts] = splitArgs(argsAndOptions);
    // As the official SDK: a function registered here decides the version; otherwise the option, or 1.
    const version = this.registry.get(name, opts.version)?.version ?? (opts.version || 1);
    const now = this.config.clock.now();
    const { promise } = await this.http.ok("promise.create", {
      id,
      timeoutAt: Math.min(now + opts.timeout, Number.MAX_SAFE_INTEGER),
      param: encodeInvocation({ func: name, args, version }),
      // The tags of an rpc root in official SDK 0.11.5: its own lineage (origin = branch = parent = id),
      // global scope, and the target that makes the server create a task. Reserved tags win.
      tags: {
        ...opts.tags,
        [TAG.origin]: id,
        [TAG.branch]: id,
        [TAG.parent]: id,
        [TAG.scope]: "global",
        [TAG.target]: opts.target,
      },
    });
    return new PromiseHandle<T>(promise, this.listeners, this.http);
  }

  /** beginRpc, then wait for the result. */
  async rpc<T = unknown>(id: string, name: string, ...argsAndOptions: unknown[]): Promise<T> {
    return (await this.beginRpc<T>(id, name, ...argsAndOptions)).result();
  }

  /** A handle to an existing promise; a PromiseNotFoundError if the server has no such id. */
  async get<T = unknown>(id: string): Promise<Handle<T>> {
    const answer = await this.http.send("promise.get", { id });
    if (answer.status === 404) throw new PromiseNotFoundError(id, messageOf(answer.data));
    if (answer.status !== 200 || typeof answer.data !== "object") throw new ResonateError("promise.get", answer.status, messageOf(answer.data));
    return new PromiseHandle<T>(answer.data.promise, this.listeners, this.http);
  }

  /** Resolves once the poll stream has opened (for tools and tests that must not miss a message). */
  connected(): Promise<void> {
    return this.poll.whenOpen();
  }

  /**
   * Leaves the group and frees everything so the process can exit:
   *   - the poll stream closes (no new tasks or results arrive; the channel only stops delivering
   *     them, its socket carries the hand-backs and closes last, with the http client);
   *   - pending result() waits reject with ResonateStoppedError;
   *   - tasks waiting in the local queue are handed back (re-dispatched by the server at once), and a
   *     task acquired but not started is released;
   *   - running functions are abandoned: ctx.signal aborts, heartbeats stop, their results are not
   *     sent; their leases lapse after the ttl and the server re-dispatches them.
   * Idempotent.
   */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.poll.close();
      this.listeners.stop();
      await this.runner.stop();
      this.heartbeat.stop();
      this.http.stop();
    })();
    return this.stopped;
  }

  private onMessage(message: Message): void {
    if (message.kind === "execute") this.runner.onExecute(message.data.task);
    else this.listeners.onUnblock(message.data.promise);
  }
}
