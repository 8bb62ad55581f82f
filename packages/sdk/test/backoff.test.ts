import { describe, expect, it } from "vitest";
import { Backoff } from "../src/backoff";

describe("Backoff", () => {
  it("doubles from 1 s and caps at 30 s, like the SSE reconnect of the official SDK", () => {
    const b = new Backoff({ initial: 1_000, max: 30_000 });
    expect(Array.from({ length: 8 }, () => b.next())).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    expect(b.attempts).toBe(8);
  });

  it("starts over after reset", () => {
    const b = new Backoff({ initial: 100, max: 1_000, factor: 3 });
    expect([b.next(), b.next()]).toEqual([100, 300]);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(100);
  });
});
