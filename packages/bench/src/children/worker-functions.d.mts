export const workerIndex: number;
export function noop(ctx: unknown, i: number): { s: number; w: number };
export function work(ctx: { id: string }, i: number, ms: number): Promise<{ s: number; w: number }>;
