import { type Command, Option } from "commander";
import type { Tags, Value } from "@resonate-compat/protocol";
import * as arg from "../args";
import { contextOf } from "../context";
import { UsageError } from "../errors";
import { page, promiseRecord, promiseTable } from "../output/records";
import { TAG } from "../wire";

// resonate promises get|create|resolve|reject|cancel|search|register-callback|register-listener:
// one protocol request each (spec §6.1).

interface CreateOptions { timeout: number; param?: Value; tags?: Tags; delay?: number }
interface SettleOptions { value?: Value }
interface SearchOptions { state?: string; tags?: Tags; limit: number; cursor?: string }

const STATES = ["pending", "resolved", "rejected", "rejected_canceled", "rejected_timedout"];

export function registerPromises(program: Command): void {
  const promises = program
    .command("promises")
    .alias("promise")
    .description("get, create, settle and search promises");

  promises
    .command("get")
    .description("show a promise")
    .argument("<id>", "promise id")
    .action(async (id: string, _options: object, command: Command) => {
      const { client, out } = contextOf(command);
      const { data } = await client.call("promise.get", { id });
      out.result(data, () => promiseRecord(data.promise));
    });

  promises
    .command("create")
    .description("create a promise (answers the existing one if the id is taken)")
    .argument("<id>", "promise id")
    .requiredOption("--timeout <duration>", "time until the promise times out, e.g. 30s, 1h", arg.duration)
    .option("--param <json>", "param: any JSON, base64-encoded into param.data ({\"data\":…,\"headers\":…} as the reference CLI)", arg.value)
    .option("--tags <json>", "tags, a JSON object of strings, e.g. '{\"resonate:target\":\"poll://any@default\"}'", arg.tags)
    .option("--delay <duration>", "hold the task back this long (sets resonate:delay; needs a resonate:target tag)", arg.duration)
    .action(async (id: string, options: CreateOptions, command: Command) => {
      const { client, out } = contextOf(command);
      const now = Date.now();
      const tags: Tags = { ...options.tags };
      if (options.delay !== undefined) {
        if (!tags[TAG.target]) throw new UsageError("--delay needs a resonate:target tag (--tags)");
        tags[TAG.delay] = String(now + options.delay);
      }
      // As the reference's invoke: the delay does not eat into the timeout.
      const timeoutAt = now + options.timeout + (options.delay ?? 0);
      const { data } = await client.call("promise.create", {
        id,
        timeoutAt,
        ...(options.param && { param: options.param }),
        ...(Object.keys(tags).length > 0 && { tags }),
      });
      out.result(data, () => promiseRecord(data.promise));
    });

  for (const [name, state, verb] of [
    ["resolve", "resolved", "resolve"],
    ["reject", "rejected", "reject"],
    ["cancel", "rejected_canceled", "cancel"],
  ] as const) {
    promises
      .command(name)
      .description(`${verb} a pending promise (a settled one is answered unchanged)`)
      .argument("<id>", "promise id")
      .option("--value <json>", "value: any JSON, base64-encoded into value.data", arg.value)
      .action(async (id: string, options: SettleOptions, command: Command) => {
        const { client, out } = contextOf(command);
        const { data } = await client.call("promise.settle", { id, state, ...(options.value && { value: options.value }) });
        out.result(data, () => promiseRecord(data.promise));
      });
  }

  promises
    .command("search")
    .description("list promises by state and tags, in id order")
    .addOption(new Option("--state <state>", "only promises in this state").choices(STATES))
    .option("--tags <json>", "only promises with all these tags, a JSON object", arg.tags)
    .option("--limit <n>", "promises per page (1-1000)", arg.positiveInteger, 100)
    .option("--cursor <cursor>", "the page after this cursor (printed by the previous page)")
    .action(async (options: SearchOptions, command: Command) => {
      const { client, out } = contextOf(command);
      const { data } = await client.call("promise.search", {
        limit: options.limit,
        ...(options.state && { state: options.state }),
        ...(options.tags && { tags: options.tags }),
        ...(options.cursor !== undefined && { cursor: options.cursor }),
      });
      out.result(data, () => page(promiseTable(data.promises), data.promises.length, "promises", data.cursor));
    });

  promises
    .command("register-callback")
    .description("resume the awaiter's task when the awaited promise settles")
    .argument("<awaited>", "promise to wait for")
    .argument("<awaiter>", "promise whose task resumes (needs a resonate:target tag)")
    .action(async (awaited: string, awaiter: string, _options: object, command: Command) => {
      const { client, out } = contextOf(command);
      const { data } = await client.call("promise.register_callback", { awaited, awaiter });
      out.result(data, () => promiseRecord(data.promise));
    });

  promises
    .command("register-listener")
    .description("send an unblock message to an address when the promise settles")
    .argument("<awaited>", "promise to listen to")
    .argument("<address>", "where the unblock goes, e.g. poll://uni@group/pid or http://host/path")
    .action(async (awaited: string, address: string, _options: object, command: Command) => {
      const { client, out } = contextOf(command);
      const { data } = await client.call("promise.register_listener", { awaited, address });
      out.result(data, () => promiseRecord(data.promise));
    });
}
