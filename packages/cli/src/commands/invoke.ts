import { type Command, Option } from "commander";
import type { PromiseRecord, Tags } from "@resonate-compat/protocol";
import * as arg from "../args";
import { contextOf } from "../context";
import { formatDuration } from "../duration";
import { EXIT, UsageError } from "../errors";
import type { Printer } from "../output/printer";
import { promiseRecord } from "../output/records";
import { decodeValue, describeValue, encodeJson } from "../values";
import { waitForSettlement } from "../wait";
import { TAG, targetAddress } from "../wire";

// resonate invoke: start a function on a worker group the way an SDK's beginRpc does: one
// promise.create whose param is {"func","args","version"} (spec §12.2) and whose target tag sends
// the task to the group. With --wait, also wait for the result and print it, decoded.

interface InvokeOptions {
  func: string;
  arg?: string[];
  jsonArgs?: unknown[];
  version: number;
  timeout: number;
  target: string;
  delay?: number;
  wait?: boolean;
}

/** A progress line this often while --wait waits, so that a long wait does not look like a hang. */
const PROGRESS_EVERY_MS = 5_000;

/** --arg values as the reference CLI reads them: JSON when they parse, else the string itself. */
function argValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function registerInvoke(program: Command): void {
  program
    .command("invoke")
    .description("start a function on a worker group (and with --wait, print its result)")
    .argument("<id>", "id of the invocation's promise (an existing id attaches to that run)")
    .requiredOption("-f, --func <name>", "registered function name")
    .option("--arg <value>", "an argument, JSON or a plain string; repeat for more", arg.collect)
    .option("--json-args <json>", "all arguments as a JSON array (instead of --arg)", arg.jsonArray)
    .option("--version <n>", "function version", arg.positiveInteger, 1)
    .addOption(new Option("-t, --timeout <duration>", "time until the promise times out").argParser(arg.duration).default(3_600_000, "1h"))
    .option("--target <address>", "where the task goes: an address, or a group name for poll://any@<group>", "poll://any@default")
    .option("--delay <duration>", "do not start the function before this long from now", arg.duration)
    .option("--wait", "wait for the result and print it (exit 4 if it is not resolved)")
    .action(async (id: string, options: InvokeOptions, command: Command) => {
      const { client, out } = contextOf(command);
      if (options.arg && options.jsonArgs) throw new UsageError("give --arg or --json-args, not both");
      const args = options.jsonArgs ?? (options.arg ?? []).map(argValue);
      const target = targetAddress(options.target);
      const now = Date.now();
      const delay = options.delay ?? 0;
      // The tags an SDK puts on a root invocation: the run is its own origin, so `tree` finds it.
      const tags: Tags = {
        [TAG.origin]: id,
        [TAG.branch]: id,
        [TAG.parent]: id,
        [TAG.scope]: "global",
        [TAG.target]: target,
      };
      if (delay > 0) tags[TAG.delay] = String(now + delay);
      const param = encodeJson({ func: options.func, args, version: options.version });

      const { data } = await client.call("promise.create", { id, timeoutAt: now + options.timeout + delay, param, tags });
      if (data.promise.param.data !== param.data) {
        out.note(`note: promise ${id} already exists with another param; this is that promise, not a new invocation`);
      }
      if (!options.wait) {
        out.result(data, () => `invoked ${describeCall(options.func, args)} on ${target}\n${promiseRecord(data.promise)}`);
        return;
      }
      if (!out.json) process.stdout.write(`invoked ${describeCall(options.func, args)} on ${target} as ${id}\n`);

      let waiting = false;
      if (data.promise.state === "pending") {
        waiting = true;
        out.note(`waiting for ${id}… (Ctrl-C stops waiting; the invocation goes on)`);
        process.once("SIGINT", () => {
          out.note(`stopped waiting for ${id}; the invocation goes on (resonate promises get ${id})`);
          process.exit(EXIT.interrupted);
        });
      }
      const settled = waiting
        ? await waitForSettlement(client, id, {
            progressEveryMs: PROGRESS_EVERY_MS,
            onProgress: (elapsed) => out.note(`still waiting for ${id} (${formatDuration(elapsed)})`),
            onNotice: (text) => out.note(text),
          })
        : data.promise;
      printOutcome(out, settled);
    });
}

function describeCall(func: string, args: unknown[]): string {
  const text = `${func}(${args.map((a) => JSON.stringify(a)).join(", ")})`;
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}

/** The result, decoded; anything but resolved sets exit code 4 (EXIT.rejected). */
function printOutcome(out: Printer, promise: PromiseRecord): void {
  if (promise.state !== "resolved") process.exitCode = EXIT.rejected;
  out.result({ promise }, () => {
    switch (promise.state) {
      case "resolved":
        return `resolved: ${describeValue(promise.value) || "(no value)"}`;
      case "rejected_timedout":
        return "rejected_timedout: the promise timed out before a result came";
      default:
        return `${promise.state}: ${describeError(promise)}`;
    }
  });
}

/** An SDK encodes a thrown Error as {__type:"error", name, message}: show it as name: message. */
function describeError(promise: PromiseRecord): string {
  const decoded = decodeValue(promise.value);
  if (decoded.kind === "json" && typeof decoded.value === "object" && decoded.value !== null) {
    const e = decoded.value as { __type?: unknown; name?: unknown; message?: unknown };
    if (e.__type === "error" || e.__type === "aggregate_error") {
      return `${typeof e.name === "string" ? e.name : "Error"}: ${typeof e.message === "string" ? e.message : ""}`;
    }
  }
  return describeValue(promise.value) || "(no value)";
}
