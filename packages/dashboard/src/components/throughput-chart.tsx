import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { useEffect, useRef } from "preact/hooks";
import type { MinuteCounts } from "../api/types";
import { clockTime } from "../format";

// Work per minute over the last minutes (uPlot, drawn on a canvas): executes dispatched, tasks
// finished, leases taken back from workers. The caption gives the totals and a table (behind a
// disclosure) every minute's figures, for screen readers and for anyone who wants the numbers.

const SERIES = [
  { key: "dispatched", label: "dispatched", stroke: "#2563eb" },
  { key: "finished", label: "finished", stroke: "#16a34a" },
  { key: "takenBack", label: "taken back", stroke: "#dc2626" },
] as const;

export function ThroughputChart({ minutes }: { minutes: MinuteCounts[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);

  const data: uPlot.AlignedData = [minutes.map((m) => m.at / 1000), ...SERIES.map((s) => minutes.map((m) => m[s.key]))];

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const width = () => Math.max(240, element.clientWidth);
    // Canvas has no currentColor: take the text colour (light or dark scheme) once.
    const ink = getComputedStyle(element).color;
    plot.current = new uPlot(
      {
        width: width(),
        height: 180,
        // The caption is the legend (with totals); uPlot's own would show hover values as "--".
        legend: { show: false },
        scales: { y: { range: (_u, _min, max) => [0, Math.max(4, max)] } },
        axes: [{ stroke: ink }, { stroke: ink, label: "per minute" }],
        series: [{}, ...SERIES.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, points: { show: false } }))],
      },
      data,
      element,
    );
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: width(), height: 180 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
    };
  }, []);

  useEffect(() => {
    plot.current?.setData(data);
  });

  const total = (key: (typeof SERIES)[number]["key"]) => minutes.reduce((sum, m) => sum + m[key], 0);
  return (
    <figure class="chart">
      <div ref={box} role="img" aria-label="work per minute over the last 15 minutes" />
      <figcaption>
        Last {minutes.length} minutes:{" "}
        {SERIES.map((s, i) => (
          <span key={s.key} data-testid={`total-${s.key}`}>
            <span class="key" style={{ background: s.stroke }} />
            {total(s.key)} {s.label}
            {i < SERIES.length - 1 ? ", " : "."}
          </span>
        ))}
      </figcaption>
      <details>
        <summary>Figures per minute</summary>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Minute</th>
                {SERIES.map((s) => (
                  <th scope="col" key={s.key}>
                    {s.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {minutes.map((m) => (
                <tr key={m.at}>
                  <th scope="row">{clockTime(m.at).slice(0, 5)}</th>
                  {SERIES.map((s) => (
                    <td key={s.key}>{m[s.key]}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
