// A small strict reader of the Prometheus text exposition format (version 0.0.4), enough to check
// what GET /metrics answers: every line is a HELP, a TYPE or a sample of a declared family, label
// values are quoted and escaped, values are numbers. Throws on anything else.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;
const SUFFIXES = ["_bucket", "_sum", "_count", "_total", ""];

export function parsePrometheus(text: string): Sample[] {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    if (line === "") continue;
    const fail = (why: string) => new Error(`line ${i + 1}: ${why}: ${line}`);
    if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
      const [, , name, rest] = line.split(" ");
      if (!name || !NAME.test(name)) throw fail("bad metric name");
      if (line.startsWith("# TYPE ")) {
        if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(rest ?? "")) throw fail("bad type");
        types.set(name, rest!);
      }
      continue;
    }
    if (line.startsWith("#")) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw fail("not a sample");
    const [, name, labelText, valueText] = m;
    const family = SUFFIXES.map((s) => (s && name!.endsWith(s) ? name!.slice(0, -s.length) : name!)).find((f) => types.has(f));
    if (family === undefined) throw fail("sample of an undeclared family");
    const labels: Record<string, string> = {};
    if (labelText) {
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < labelText.length) {
        const start = LABEL.lastIndex;
        const l = LABEL.exec(labelText);
        if (!l || l.index !== start) throw fail("bad labels");
        labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
      }
    }
    const value = valueText === "+Inf" ? Infinity : valueText === "-Inf" ? -Infinity : Number(valueText);
    if (Number.isNaN(value) && valueText !== "NaN") throw fail("bad value");
    samples.push({ name: name!, labels, value });
  }
  return samples;
}

/** The value of the sample `name` whose labels include `labels`; undefined when absent. */
export function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return found?.value;
}

/** GET <url>/metrics, parsed. */
export async function scrape(url: string): Promise<Sample[]> {
  const res = await fetch(`${url}/metrics`);
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
  if (!(res.headers.get("content-type") ?? "").startsWith("text/plain")) throw new Error("GET /metrics: not text/plain");
  return parsePrometheus(await res.text());
}
