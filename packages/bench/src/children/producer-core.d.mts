export interface ProducerPlan {
  mode: "burst" | "rate";
  n: number;
  window?: number;
  rate?: number;
  /** Unrecorded invocations run (and awaited) before the measured ones. */
  warmup?: number;
  func: string;
  args?: unknown[];
  idPrefix: string;
  target: string;
  /** false: only dispatch (beginRpc), never ask for the result. */
  awaitResults?: boolean;
  resultTimeoutMs?: number;
  out: string;
}

export function mark(event: string, fields?: Record<string, unknown>): void;

export function runProducer(
  plan: ProducerPlan,
  dispatch: (id: string, args: unknown[]) => Promise<{ result(): Promise<unknown> }>,
): Promise<void>;

/** Milliseconds since the epoch with sub-millisecond resolution (one clock for every process here). */
export function preciseNow(): number;
