// What the bench's Node children run. By default JavaScript, as a user runs in production: the
// server's own build (packages/server/dist/main.js, `pnpm build`) and each TypeScript child of
// src/children bundled into dist/children/ with the workspace code it imports. BullMQ's children
// are plain JavaScript too, so both sides start the same way.
//
// BENCH_LOADER=tsx runs the sources through tsx instead, as the bench did until 6 Dec: tsx compiles
// every module on load and keeps its source map, and the young garbage that leaves costs a fresh
// process scavenges of 9–21 ms in its first seconds (docs/performance.md). Kept to show that
// difference in one run.
import path from "node:path";
import { SERVER_ENTRY, buildServer, bundle } from "@resonate-compat/server/build";
import { BENCH_ROOT, CHILDREN_DIR, TSX_LOADER } from "./procs";

export type Loader = "build" | "tsx";

export function loader(): Loader {
  const value = process.env.BENCH_LOADER ?? "build";
  if (value !== "build" && value !== "tsx") throw new Error(`BENCH_LOADER must be "build" or "tsx", not "${value}"`);
  return value;
}

const built = new Map<string, string>();

/** Bundles `entry` once per bench process (the first spawn pays ~0.1 s, before any measurement). */
function once(entry: string, make: () => string): string {
  let out = built.get(entry);
  if (out === undefined) {
    out = make();
    built.set(entry, out);
  }
  return out;
}

/**
 * Node's arguments that run one TypeScript program: `--import <tsx> file.ts` for a source the bench
 * was told to run as it is (BENCH_SERVER_MAIN, cpu-pairs' own mains: other checkouts' sources) or
 * under BENCH_LOADER=tsx, otherwise its bundle. A .js or .mjs file runs as it is.
 */
export function nodeProgram(file: string, o: { build?: () => string } = {}): string[] {
  if (!file.endsWith(".ts")) return [file];
  if (loader() === "tsx" || o.build === undefined) return ["--import", TSX_LOADER, file];
  return [once(file, o.build)];
}

/** One of src/children's TypeScript programs. */
export function childProgram(file: string): string[] {
  const source = path.join(CHILDREN_DIR, file);
  return nodeProgram(source, {
    build: () => {
      const out = path.join(BENCH_ROOT, "dist", "children", file.replace(/\.ts$/, ".js"));
      bundle(source, out);
      return out;
    },
  });
}

/** The server: this checkout's build, or BENCH_SERVER_MAIN as given. */
export function serverProgram(main: string | undefined = process.env.BENCH_SERVER_MAIN): string[] {
  if (main !== undefined) return nodeProgram(main);
  return nodeProgram(SERVER_ENTRY, { build: buildServer });
}
