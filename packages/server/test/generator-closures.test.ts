// The server's generators are declared once (at module level, or as class methods), never created
// per call. Calling a freshly made generator function makes V8 give it a prototype and a hidden
// class of its own in the old generation, and that class points back at the function: everything
// the closure captures (a whole group commit's batch, every request in it) then outlives each
// scavenge until a full mark-compact. Measured: 0.55 against 0.05 KB promoted per promise.get, and
// 6.6 against 2.8 KB per invocation (docs/performance.md, "Generator closures"). This test keeps
// them out of the source; a job that needs state takes it as arguments through an arrow function.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const SRC = path.join(import.meta.dirname, "..", "src");

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

/** Generator function expressions, and generator declarations nested in another function. */
function generatorClosures(source: string): number[] {
  const lines: number[] = [];
  source.split("\n").forEach((line, i) => {
    const code = line.replace(/\/\/.*$/, "");
    if (/function\*\s*\(/.test(code) || /^\s+(export\s+)?function\*/.test(code)) lines.push(i + 1);
  });
  return lines;
}

describe("generator closures", () => {
  it("finds a generator expression and a nested generator declaration, not top-level ones or methods", () => {
    const sample = [
      "function* topLevel(tx) {}",
      "export function* exported(tx) {}",
      "class Store {",
      "  *getTask(id) {}",
      "}",
      "function outer() {",
      "  return store.transact(function* (tx) {});",
      "  function* nested() {}",
      "}",
    ].join("\n");
    expect(generatorClosures(sample)).toEqual([7, 8]);
  });

  it("the server's source has none", () => {
    const found = sourceFiles(SRC).flatMap((file) =>
      generatorClosures(fs.readFileSync(file, "utf8")).map((line) => `${path.relative(SRC, file)}:${line}`),
    );
    expect(found).toEqual([]);
  });
});
