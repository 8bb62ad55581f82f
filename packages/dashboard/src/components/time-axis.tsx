import { clockTime } from "../format";

// The shared scale of the two timelines (a call tree's, a task's): times mapped onto a width, with
// a handful of labelled ticks.

export interface Scale {
  from: number;
  to: number;
  /** x in percent of the drawing's width. */
  x(ms: number): number;
}

export function scale(from: number, to: number): Scale {
  const span = Math.max(1, to - from);
  return { from, to, x: (ms) => ((ms - from) / span) * 100 };
}

export function TimeAxis({ s }: { s: Scale }) {
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => s.from + f * (s.to - s.from));
  return (
    <div class="time-axis" aria-hidden="true">
      {ticks.map((t, i) => (
        <span key={i} style={{ left: `${s.x(t)}%` }}>
          {clockTime(t)}
        </span>
      ))}
    </div>
  );
}
