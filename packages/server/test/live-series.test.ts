// The request path's counters and histograms: plain numbers that prom-client reads and writes out
// at scrape time, in the exposition a prom-client Histogram would give.
import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { LiveCounter, LiveHistogram } from "../src/observability/live-series";
import { parsePrometheus, valueOf } from "./support/prometheus";

const BUCKETS = [0.001, 0.01, 0.1];

describe("live series", () => {
  it("a counter's series are its label sets, each counted on its own; a series is the same object each time", async () => {
    const registry = new Registry();
    const counter = new LiveCounter(registry, { name: "x_total", help: "x", labelNames: ["kind", "status"] as const });
    const created = counter.series({ kind: "promise.create", status: "200" });
    expect(counter.series({ kind: "promise.create", status: "200" })).toBe(created);
    created.value += 3;
    counter.series({ kind: "promise.get", status: "404" }).value++;
    const samples = parsePrometheus(await registry.metrics());
    expect(valueOf(samples, "x_total", { kind: "promise.create", status: "200" })).toBe(3);
    expect(valueOf(samples, "x_total", { kind: "promise.get", status: "404" })).toBe(1);
    // Read again: the scrape reports the totals, it does not add them up a second time.
    created.value++;
    expect(valueOf(parsePrometheus(await registry.metrics()), "x_total", { kind: "promise.create", status: "200" })).toBe(4);
  });

  it("a histogram writes the same samples as prom-client's own for the same observations", async () => {
    const live = new Registry();
    const ours = new LiveHistogram(live, { name: "d_seconds", help: "d", labelName: "kind", buckets: BUCKETS });
    const reference = new Registry();
    const theirs = new Histogram({ name: "d_seconds", help: "d", labelNames: ["kind"], buckets: BUCKETS, registers: [reference] });
    // On a bound, between bounds, above every bound; two label values.
    const observations: [string, number][] = [["a", 0.001], ["a", 0.0005], ["a", 0.05], ["a", 3], ["b", 0.01], ["b", 0.011]];
    for (const [kind, v] of observations) {
      ours.series(kind).observe(v);
      theirs.observe({ kind }, v);
    }
    const sorted = (text: string) =>
      parsePrometheus(text)
        .map((s) => `${s.name}${JSON.stringify(Object.entries(s.labels).sort())} ${s.value}`)
        .sort();
    expect(sorted(await live.metrics())).toEqual(sorted(await reference.metrics()));
    const samples = parsePrometheus(await live.metrics());
    expect(valueOf(samples, "d_seconds_bucket", { kind: "a", le: "0.001" })).toBe(2);
    expect(valueOf(samples, "d_seconds_bucket", { kind: "a", le: "+Inf" })).toBe(4);
    expect(valueOf(samples, "d_seconds_count", { kind: "b" })).toBe(2);
  });

  it("a histogram without a label has one series, and the registry's reset empties it", async () => {
    const registry = new Registry();
    const series = new LiveHistogram(registry, { name: "b", help: "b", buckets: [1, 2] }).series();
    series.observe(2);
    series.observe(5);
    let samples = parsePrometheus(await registry.metrics());
    expect(valueOf(samples, "b_bucket", { le: "2" })).toBe(1);
    expect(valueOf(samples, "b_sum")).toBe(7);
    registry.resetMetrics();
    samples = parsePrometheus(await registry.metrics());
    expect(valueOf(samples, "b_count")).toBe(0);
    expect(valueOf(samples, "b_bucket", { le: "+Inf" })).toBe(0);
  });
});
