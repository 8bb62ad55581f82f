import Table from "cli-table3";

// Borderless, colourless tables (like `kubectl get`): easy to read, easy to grep, the same in a
// terminal and in a pipe. Trailing padding is trimmed so that lines end where their text ends.

const NO_BORDERS = {
  top: "", "top-mid": "", "top-left": "", "top-right": "",
  bottom: "", "bottom-mid": "", "bottom-left": "", "bottom-right": "",
  left: "", "left-mid": "", mid: "", "mid-mid": "",
  right: "", "right-mid": "", middle: "  ",
};

const STYLE = { head: [], border: [], "padding-left": 0, "padding-right": 0 };

/** Rows under a header line of column names. */
export function table(head: string[], rows: string[][]): string {
  const t = new Table({ head, chars: NO_BORDERS, style: STYLE });
  t.push(...rows);
  return trimLines(t.toString());
}

/** One record as "field  value" lines. Empty values are left out. */
export function record(fields: [string, string | number | undefined][]): string {
  const t = new Table({ chars: NO_BORDERS, style: STYLE });
  for (const [name, value] of fields) {
    if (value === undefined || value === "") continue;
    t.push([`${name}:`, String(value)]);
  }
  return trimLines(t.toString());
}

function trimLines(text: string): string {
  return text
    .split("\n")
    .map((line) => line.trimEnd())
    .filter((line) => line !== "")
    .join("\n");
}
