import type { Command } from "commander";
import type { Tags, Value } from "@resonate-compat/protocol";
import * as arg from "../args";
import { contextOf } from "../context";
import { page, scheduleRecord, scheduleTable } from "../output/records";

// resonate schedules create|get|delete|search: one protocol request each (spec §6.3).

interface CreateOptions {
  cron: string;
  promiseId: string;
  promiseTimeout: number;
  promiseParam?: Value;
  promiseTags?: Tags;
}
interface SearchOptions { tags?: Tags; limit: number; cursor?: string }

export function registerSchedules(program: Command): void {
  const schedules = program.command("schedules").alias("schedule").description("create promises on a cron schedule");

  schedules
    .command("create")
    .description("create a schedule (answers the existing one if the id is taken)")
    .argument("<id>", "schedule id")
    .requiredOption("--cron <expr>", "cron expression, UTC, e.g. '*/5 * * * *'")
    .requiredOption("--promise-id <template>", "id of each promise; {{.id}} and {{.timestamp}} are filled in")
    .requiredOption("--promise-timeout <duration>", "timeout of each promise, e.g. 1h", arg.duration)
    .option("--promise-param <json>", "param of each promise: any JSON, base64-encoded", arg.value)
    .option("--promise-tags <json>", "tags of each promise; must include resonate:target", arg.tags)
    .action(async (id: string, options: CreateOptions, command: Command) => {
      const { client, out } = contextOf(command);
      const { data } = await client.call("schedule.create", {
        id,
        cron: options.cron,
        promiseId: options.promiseId,
        promiseTimeout: options.promiseTimeout,
        ...(options.promiseParam && { promiseParam: options.promiseParam }),
        ...(options.promiseTags && { promiseTags: options.promiseTags }),
      });
      out.result(data, () => scheduleRecord(data.schedule));
    });

  schedules
    .command("get")
    .description("show a schedule")
    .argument("<id>", "schedule id")
    .action(async (id: string, _options: object, command: Command) => {
      const { client, out } = contextOf(command);
      const { data } = await client.call("schedule.get", { id });
      out.result(data, () => scheduleRecord(data.schedule));
    });

  schedules
    .command("delete")
    .description("delete a schedule (the promises it created stay)")
    .argument("<id>", "schedule id")
    .action(async (id: string, _options: object, command: Command) => {
      const { client, out } = contextOf(command);
      const { data } = await client.call("schedule.delete", { id });
      out.result(data, () => `schedule ${id} deleted`);
    });

  schedules
    .command("search")
    .description("list schedules by promise tags, in id order")
    .option("--tags <json>", "only schedules whose promise tags include these, a JSON object", arg.tags)
    .option("--limit <n>", "schedules per page (1-1000)", arg.positiveInteger, 10)
    .option("--cursor <cursor>", "the page after this cursor (printed by the previous page)")
    .action(async (options: SearchOptions, command: Command) => {
      const { client, out } = contextOf(command);
      const { data } = await client.call("schedule.search", {
        limit: options.limit,
        ...(options.tags && { tags: options.tags }),
        ...(options.cursor !== undefined && { cursor: options.cursor }),
      });
      out.result(data, () => page(scheduleTable(data.schedules), data.schedules.length, "schedules", data.cursor));
    });
}
