// What V8's --trace-gc-nvp printed between two points of a log: how often the young generation was
// collected, how much each collection promoted to the old generation, and the pauses. Promoted
// bytes are the figure to watch: what outlives two scavenges is copied twice and then waits for a
// full mark-compact, so a server that promotes more spends more of its CPU collecting.

export interface GcFigures {
  scavenges: number;
  markCompacts: number;
  /** Bytes moved to the old generation by the scavenges. */
  promotedBytes: number;
  /** Sum of the pauses, ms. */
  pauseMs: number;
}

/** Reads the --trace-gc-nvp lines of `text` (one collection per line, `key=value` fields). */
export function gcFigures(text: string): GcFigures {
  const figures: GcFigures = { scavenges: 0, markCompacts: 0, promotedBytes: 0, pauseMs: 0 };
  for (const line of text.split("\n")) {
    const kind = / gc=(\w+) /.exec(line)?.[1];
    if (kind === undefined) continue;
    const field = (name: string) => Number(new RegExp(` ${name}=([0-9.]+)`).exec(line)?.[1] ?? 0);
    if (kind === "s") {
      figures.scavenges++;
      figures.promotedBytes += field("promoted");
    } else if (kind === "mc" || kind === "mmc") {
      figures.markCompacts++;
    }
    figures.pauseMs += field("pause");
  }
  return figures;
}
