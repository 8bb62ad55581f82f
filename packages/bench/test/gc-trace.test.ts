// The cpu-pairs tool's reading of V8's --trace-gc-nvp lines.
import { describe, expect, it } from "vitest";
import { gcFigures } from "../src/diagnostics/gc-trace";

const scavenge = (promoted: number, pause: number) =>
  `[5438:0x9c0b470]      104 ms: pause=${pause} mutator=92.4 gc=s reduce_memory=0 scavenge=2.54 scavenge.roots=0.17 allocated=13062728 promoted=${promoted} new_space_survived=959480 promotion_rate=95.8%`;

describe("gcFigures", () => {
  it("counts scavenges and mark-compacts, adds up promoted bytes and pauses, ignores other lines", () => {
    const text = [
      scavenge(1000, 3.2),
      '{"level":40,"msg":"a log line of the server"}',
      "[5438:0x9c0b470]      955 ms: pause=11.1 mutator=14.4 gc=mc reduce_memory=0 heap.prologue=0.00",
      scavenge(2500, 1.8),
      "[5438:0x9c0b470]     1200 ms: pause=0.5 mutator=3.0 gc=mmc reduce_memory=1",
      "",
    ].join("\n");
    const figures = gcFigures(text);
    expect(figures.scavenges).toBe(2);
    expect(figures.markCompacts).toBe(2);
    expect(figures.promotedBytes).toBe(3500);
    expect(figures.pauseMs).toBeCloseTo(3.2 + 11.1 + 1.8 + 0.5, 6);
    // "mutator=" must not be read as "pause=", nor "new_space_survived=" as "promoted=".
    expect(gcFigures(scavenge(7, 0)).pauseMs).toBe(0);
  });

  it("gives zeros for a log without a GC trace", () => {
    expect(gcFigures("nothing here\n")).toEqual({ scavenges: 0, markCompacts: 0, promotedBytes: 0, pauseMs: 0 });
  });
});
