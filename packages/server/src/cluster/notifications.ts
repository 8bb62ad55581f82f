import pg from "pg";
import type { Logger } from "pino";

/**
 * The replica's LISTEN connection: one dedicated PostgreSQL connection (not from the pool, which
 * must not hold it) that hears the channels given. A NOTIFY only wakes: the rows are the truth, so
 * after the connection is lost and made again, `onReconnect` lets the owner read what it missed.
 */
export class Notifications {
  private client: pg.Client | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: string,
    private readonly channels: string[],
    private readonly onNotify: (channel: string, payload: string) => void,
    private readonly onReconnect: () => void,
    private readonly logger: Pick<Logger, "warn" | "info">,
  ) {}

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, application_name: "resonate-compat-listen" });
    client.on("notification", (n) => this.onNotify(n.channel, n.payload ?? ""));
    client.on("error", (error) => this.lost(client, error));
    client.on("end", () => this.lost(client, undefined));
    await client.connect();
    for (const channel of this.channels) await client.query(`LISTEN ${channel}`);
    this.client = client;
  }

  private lost(client: pg.Client, error: Error | undefined): void {
    if (this.client !== client || this.stopped) return;
    this.client = undefined;
    this.logger.warn({ err: error }, "lost the PostgreSQL notification connection; reconnecting");
    client.removeAllListeners("end");
    client.end().catch(() => {});
    this.retry(250);
  }

  private retry(delay: number): void {
    if (this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.connect().then(
        () => {
          this.logger.info({}, "PostgreSQL notification connection restored");
          this.onReconnect();
        },
        () => this.retry(Math.min(delay * 2, 5_000)),
      );
    }, delay);
    this.retryTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }
}
