import { randomUUID } from "node:crypto";
import { type Command, Option } from "commander";
import type { AcquiredTaskResult, PromiseRecord, Tags, Value } from "@resonate-compat/protocol";
import * as arg from "../args";
import { contextOf } from "../context";
import { UsageError } from "../errors";
import { record } from "../output/table";
import { page, promiseRecord, taskRecord, taskTable } from "../output/records";
import { PROTOCOL_VERSION } from "../wire";

// resonate tasks get|create|claim|fence|heartbeat|suspend|complete|release|halt|continue|search:
// one protocol request each (spec §6.2), with the reference CLI's names (claim = task.acquire,
// complete = task.fulfill) and the protocol's as aliases.

const STATES = ["pending", "acquired", "suspended", "halted", "fulfilled"];
const SETTLE_STATES = ["resolved", "rejected", "rejected_canceled"];

interface CreateOptions { pid: string; ttl: number; timeout: number; param?: Value; tags?: Tags }
interface ClaimOptions { pid: string; version: number; ttl: number }
interface VersionOptions { version: number }
interface ActionOptions { version: number; action: Record<string, unknown> }
interface HeartbeatOptions { pid: string; tasks?: unknown[] }
interface SuspendOptions { version: number; actions?: unknown[]; awaited?: string[] }
interface CompleteOptions { version: number; action?: Record<string, unknown>; state: string; value?: Value }
interface SearchOptions { state?: string; limit: number; cursor?: string }

/** An inner action as the protocol wants it: the head filled in when the user left it out. */
function withHead(action: Record<string, unknown>): Record<string, unknown> {
  return action["head"] === undefined ? { ...action, head: actionHead() } : action;
}

function actionHead(): Record<string, unknown> {
  return { corrId: randomUUID(), version: PROTOCOL_VERSION };
}

function describePromise(p: PromiseRecord): string {
  return `${p.id} (${p.state})`;
}

function acquiredTask(data: AcquiredTaskResult): string {
  return [
    taskRecord(data.task),
    record([
      ["promise", describePromise(data.promise)],
      ["preload", data.preload.length === 0 ? undefined : data.preload.map((p) => p.id).join(" ")],
    ]),
  ].join("\n");
}

export function registerTasks(program: Command): void {
  const tasks = program.command("tasks").alias("task").description("inspect and drive tasks, as a worker would");

  tasks
    .command("get")
    .description("show a task")
    .argument("<id>", "task id (the id of its promise)")
    .action(async (id: string, _options: object, command: Command) => {
      const { client, out } = contextOf(command);
      const { data } = await client.call("task.get", { id });
      out.result(data, () => taskRecord(data.task));
    });

  tasks
    .command("create")
    .description("create a promise and its task, acquired by --pid (task.create)")
    .argument("<id>", "promise id")
    .requiredOption("--pid <pid>", "process id that holds the task")
    .requiredOption("--ttl <duration>", "lease length, e.g. 1m", arg.duration)
    .requiredOption("--timeout <duration>", "time until the promise times out, e.g. 1h", arg.duration)
    .option("--param <json>", "param: any JSON, base64-encoded into param.data", arg.value)
    .option("--tags <json>", "tags, a JSON object of strings; must include resonate:target", arg.tags)
    .action(async (id: string, options: CreateOptions, command: Command) => {
      const { client, out } = contextOf(command);
      const actionData = {
        id,
        timeoutAt: Date.now() + options.timeout,
        ...(options.param && { param: options.param }),
        ...(options.tags && { tags: options.tags }),
      };
      const { data } = await client.call("task.create", {
        pid: options.pid,
        ttl: options.ttl,
        action: { kind: "promise.create", head: actionHead(), data: actionData },
      });
      out.result(data, () => acquiredTask(data));
    });

  tasks
    .command("claim")
    .alias("acquire")
    .description("acquire a pending task at its version (task.acquire)")
    .argument("<id>", "task id")
    .requiredOption("--pid <pid>", "process id that will hold the task")
    .requiredOption("--version <n>", "the task's current version", arg.nonNegativeInteger)
    .requiredOption("--ttl <duration>", "lease length, e.g. 1m", arg.duration)
    .action(async (id: string, options: ClaimOptions, command: Command) => {
      const { client, out } = contextOf(command);
      const { data } = await client.call("task.acquire", { id, version: options.version, pid: options.pid, ttl: options.ttl });
      out.result(data, () => acquiredTask(data));
    });

  tasks
    .command("fence")
    .description("create or settle a promise only while holding the task at --version (task.fence)")
    .argument("<id>", "task id")
    .requiredOption("--version <n>", "the version the task was acquired at", arg.nonNegativeInteger)
    .requiredOption("--action <json>", "inner request, e.g. '{\"kind\":\"promise.settle\",\"data\":{…}}'", arg.jsonObject)
    .action(async (id: string, options: ActionOptions, command: Command) => {
      const { client, out } = contextOf(command);
      const { data } = await client.call("task.fence", { id, version: options.version, action: withHead(options.action) });
      out.result(data, () => {
        const inner = data.action;
        const lines = [`fenced ${inner.kind}: ${inner.head.status}`];
        const innerData = inner.data as { promise?: PromiseRecord } | string;
        if (typeof innerData === "string") lines.push(innerData);
        else if (innerData.promise) lines.push(promiseRecord(innerData.promise));
        return lines.join("\n");
      });
    });

  tasks
    .command("heartbeat")
    .description("renew the leases of a process (no --tasks: every lease it holds)")
    .requiredOption("--pid <pid>", "process id")
    .option("--tasks <json>", "tasks to renew, e.g. '[{\"id\":\"job-1\",\"version\":1}]'", arg.jsonArray)
    .action(async (options: HeartbeatOptions, command: Command) => {
      const { client, out } = contextOf(command);
      const { data } = await client.call("task.heartbeat", { pid: options.pid, tasks: options.tasks ?? [] });
      out.result(data, () => `heartbeat sent for ${options.pid}`);
    });

  tasks
    .command("suspend")
    .description("suspend a task until promises settle (--awaited ids, or --actions as the reference)")
    .argument("<id>", "task id")
    .requiredOption("--version <n>", "the version the task was acquired at", arg.nonNegativeInteger)
    .option("--awaited <ids...>", "promises to wait for")
    .option("--actions <json>", "register_callback actions, a JSON array", arg.jsonArray)
    .action(async (id: string, options: SuspendOptions, command: Command) => {
      const { client, out } = contextOf(command);
      if ((options.actions === undefined) === (options.awaited === undefined)) {
        throw new UsageError("give either --awaited <ids...> or --actions <json>");
      }
      const actions = options.actions
        ? options.actions.map((a) => (typeof a === "object" && a !== null && !Array.isArray(a) ? withHead(a as Record<string, unknown>) : a))
        : (options.awaited ?? []).map((awaited) => ({ kind: "promise.register_callback", head: actionHead(), data: { awaited, awaiter: id } }));
      // 300: an awaited promise is already settled, so the task is not suspended and keeps going.
      const { status, data } = await client.call("task.suspend", { id, version: options.version, actions }, [200, 300]);
      out.result(
        { status, ...data },
        () => status === 300
          ? `task ${id} not suspended: an awaited promise is already settled (it stays acquired)`
          : `task ${id} suspended`,
      );
    });

  tasks
    .command("complete")
    .alias("fulfill")
    .description("settle a task's promise and finish the task (task.fulfill)")
    .argument("<id>", "task id")
    .requiredOption("--version <n>", "the version the task was acquired at", arg.nonNegativeInteger)
    .option("--action <json>", "the promise.settle request, as the reference CLI takes it", arg.jsonObject)
    .addOption(new Option("--state <state>", "without --action: how to settle").choices(SETTLE_STATES).default("resolved"))
    .option("--value <json>", "without --action: the value, any JSON", arg.value)
    .action(async (id: string, options: CompleteOptions, command: Command) => {
      const { client, out } = contextOf(command);
      const action = options.action
        ? withHead(options.action)
        : { kind: "promise.settle", head: actionHead(), data: { id, state: options.state, ...(options.value && { value: options.value }) } };
      const { data } = await client.call("task.fulfill", { id, version: options.version, action });
      out.result(data, () => promiseRecord(data.promise));
    });

  tasks
    .command("release")
    .description("give an acquired task back: pending, executed again")
    .argument("<id>", "task id")
    .requiredOption("--version <n>", "the version the task was acquired at", arg.nonNegativeInteger)
    .action(async (id: string, options: VersionOptions, command: Command) => {
      const { client, out } = contextOf(command);
      const { data } = await client.call("task.release", { id, version: options.version });
      out.result(data, () => `task ${id} released`);
    });

  tasks
    .command("halt")
    .description("stop a task: no retries, no lease, until continued")
    .argument("<id>", "task id")
    .action(async (id: string, _options: object, command: Command) => {
      const { client, out } = contextOf(command);
      const { data } = await client.call("task.halt", { id });
      out.result(data, () => `task ${id} halted`);
    });

  tasks
    .command("continue")
    .description("let a halted task run again")
    .argument("<id>", "task id")
    .action(async (id: string, _options: object, command: Command) => {
      const { client, out } = contextOf(command);
      const { data } = await client.call("task.continue", { id });
      out.result(data, () => `task ${id} continued`);
    });

  tasks
    .command("search")
    .description("list tasks by state, in id order")
    .addOption(new Option("--state <state>", "only tasks in this state").choices(STATES))
    .option("--limit <n>", "tasks per page (1-1000)", arg.positiveInteger, 100)
    .option("--cursor <cursor>", "the page after this cursor (printed by the previous page)")
    .action(async (options: SearchOptions, command: Command) => {
      const { client, out } = contextOf(command);
      const { data } = await client.call("task.search", {
        limit: options.limit,
        ...(options.state && { state: options.state }),
        ...(options.cursor !== undefined && { cursor: options.cursor }),
      });
      out.result(data, () => page(taskTable(data.tasks), data.tasks.length, "tasks", data.cursor));
    });
}
