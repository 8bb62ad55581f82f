// pnpm --filter @resonate-compat/bench stalls <dir> [--skip <ms>]: prints what stall-monitor.mjs
// recorded in <dir> (see stalls.ts). --skip (default 5000) ignores each process's first milliseconds.
import { parseArgs } from "node:util";
import { formatStalls, summarizeStalls } from "./stalls";

const { positionals, values } = parseArgs({ allowPositionals: true, options: { skip: { type: "string", default: "5000" } } });
const skip = Number(values.skip);
if (positionals.length !== 1 || !Number.isFinite(skip) || skip < 0) {
  console.error("usage: stalls <dir written by stall-monitor.mjs> [--skip <ms>]");
  process.exit(2);
}
console.log(formatStalls(summarizeStalls(positionals[0]!, skip)));
