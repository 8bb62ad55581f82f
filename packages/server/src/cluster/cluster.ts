import type { Logger } from "pino";
import type { Clock } from "../clock";
import type { PollConnection } from "../delivery/connection";
import type { PollRegistry } from "../delivery/registry";
import type { PostgresStore } from "../store/postgres/postgres-store";
import { ClusterDirectory } from "./directory";
import { FORWARD_CHANNEL, ForwardReceiver } from "./forwards";
import { Notifications } from "./notifications";
import { Presence, STREAMS_CHANNEL, type StreamNotice } from "./presence";

export interface ClusterOptions {
  store: PostgresStore;
  replica: string;
  registry: PollRegistry;
  clock: Clock;
  logger: Logger;
  replicaTimeout: number;
  /** Processes whose stream was on a replica that died or stopped (for disconnect recovery). */
  onStreamsGone: (pids: string[]) => void;
  /** Messages were put back in the outbox (from a dead replica, or for a stream that moved). */
  onOutboxRows?: () => void;
  /**
   * Asked before a forwarded execute is written to one of this replica's streams: false when this
   * replica has offered the task at that version itself already (see Dispatcher.acceptForwarded).
   */
  acceptForwardedExecute?: (taskId: string, version: number) => boolean;
}

/**
 * What exists only with several replicas on one PostgreSQL database: each replica's presence and
 * streams in the database, the directory of every stream in the cluster that routing reads, and
 * the delivery of messages that other replicas forward to this one's streams. Notifications
 * (LISTEN/NOTIFY) wake a replica at once; the rows are the truth, and are read again after a lost
 * notification connection and at every presence beat.
 */
export class Cluster {
  readonly directory: ClusterDirectory;
  private onOutboxRows: () => void;

  private constructor(
    private readonly presence: Presence,
    private readonly forwards: ForwardReceiver,
    private readonly notifications: Notifications,
    directory: ClusterDirectory,
    onOutboxRows: () => void,
  ) {
    this.directory = directory;
    this.onOutboxRows = onOutboxRows;
  }

  static async start(options: ClusterOptions): Promise<Cluster> {
    const { store, replica, registry, logger } = options;
    const directory = new ClusterDirectory(replica, registry);
    let cluster: Cluster | undefined;
    const onOutboxRows = () => {
      store.outboxMayHaveRows = true;
      (cluster?.onOutboxRows ?? options.onOutboxRows ?? (() => {}))();
    };
    const presence = new Presence({
      pool: store.pool,
      replica,
      registry,
      directory,
      logger,
      replicaTimeout: options.replicaTimeout,
      onStreamsGone: options.onStreamsGone,
      onOutboxRows,
    });
    const forwards = new ForwardReceiver({ pool: store.pool, replica, registry, logger, onOutboxRows, acceptExecute: options.acceptForwardedExecute });
    const notifications = new Notifications(
      store.url,
      [STREAMS_CHANNEL, FORWARD_CHANNEL],
      (channel, payload) => {
        if (channel === FORWARD_CHANNEL) {
          if (payload === replica) void forwards.drain();
        } else {
          try {
            presence.heard(JSON.parse(payload) as StreamNotice);
          } catch (error) {
            logger.warn({ err: error, payload }, "ignored a malformed stream notice");
          }
        }
      },
      () => {
        // Whatever was announced or forwarded while the connection was down: read it now.
        void presence.beat();
        void forwards.drain();
      },
      logger,
    );
    await notifications.start();
    await presence.start();
    cluster = new Cluster(presence, forwards, notifications, directory, options.onOutboxRows ?? (() => {}));
    void forwards.drain(); // anything forwarded to a previous life of this replica id
    logger.info({ replica, others: directory.remoteCount }, "joined the cluster");
    return cluster;
  }

  /** Where the dispatcher is told that the outbox holds rows to route again. */
  setOutboxListener(listener: () => void): void {
    this.onOutboxRows = listener;
  }

  opened(connection: PollConnection): void {
    this.presence.opened(connection);
  }

  closed(connection: PollConnection): void {
    this.presence.closed(connection);
  }

  async stop(): Promise<void> {
    await this.presence.stop();
    await this.notifications.stop();
  }
}
