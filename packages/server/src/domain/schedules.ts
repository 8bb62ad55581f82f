import type { RequestData, ScheduleRecord } from "@resonate-compat/protocol";
import { TAG } from "@resonate-compat/protocol";
import type { Op } from "../store/op";
import { type OpContext, type Reply, fail, ok } from "./context";
import { createPromise } from "./create";
import { isValidCron, nextOccurrence } from "./cron";

// Schedule operations (spec §6.3) and firing (spec §8.3).

export function* scheduleCreate(ctx: OpContext, data: RequestData<"schedule.create">): Op<Reply> {
  // Strict mode only (spec §13 C4): SDK schedule names may contain dots. Checked before the target,
  // as the reference does.
  if (ctx.strict && data.id.includes(".")) return fail(400, "Schedule ID must not contain '.'");
  if (data.promiseTags[TAG.target] === undefined) return fail(400, "promiseTags must include a resonate:target tag");
  if (!isValidCron(data.cron)) return fail(400, "Invalid cron expression");
  const existing = yield* ctx.tx.getSchedule(data.id);
  if (existing) return ok({ schedule: existing });
  const schedule: ScheduleRecord = {
    id: data.id,
    cron: data.cron,
    promiseId: data.promiseId,
    promiseTimeout: data.promiseTimeout,
    promiseParam: data.promiseParam,
    promiseTags: data.promiseTags,
    createdAt: ctx.now,
    nextRunAt: nextOccurrence(data.cron, ctx.now),
  };
  yield* ctx.tx.insertSchedule(schedule);
  return ok({ schedule });
}

export function* scheduleGet(ctx: OpContext, data: RequestData<"schedule.get">): Op<Reply> {
  const schedule = yield* ctx.tx.getSchedule(data.id);
  return schedule ? ok({ schedule }) : fail(404, "Schedule not found");
}

export function* scheduleDelete(ctx: OpContext, data: RequestData<"schedule.delete">): Op<Reply> {
  return (yield* ctx.tx.deleteSchedule(data.id)) ? ok({}) : fail(404, "Schedule not found");
}

export function* scheduleSearch(ctx: OpContext, data: RequestData<"schedule.search">): Op<Reply> {
  const page = yield* ctx.tx.searchSchedules({
    ...(data.tags != null && { tags: data.tags }),
    ...(data.cursor != null && { cursor: data.cursor }),
    limit: data.limit ?? 10,
  });
  return ok({ schedules: page.items, ...(page.cursor !== undefined && { cursor: page.cursor }) });
}

/** Fires one occurrence (the one at `nextRunAt`) and moves the schedule to the next. */
export function* fireSchedule(ctx: OpContext, schedule: ScheduleRecord): Op<void> {
  const firedAt = schedule.nextRunAt;
  const id = schedule.promiseId.replaceAll("{{.id}}", schedule.id).replaceAll("{{.timestamp}}", String(firedAt));
  const tags = {
    ...schedule.promiseTags,
    [TAG.schedule]: schedule.id,
    [TAG.origin]: id,
    [TAG.branch]: id,
    [TAG.parent]: id,
    [TAG.prefix]: id,
  };
  // Fired promises skip create validation; an existing id (a template without a timestamp) is kept.
  yield* createPromise(
    ctx,
    { id, timeoutAt: firedAt + schedule.promiseTimeout, param: schedule.promiseParam, tags },
    { createdAt: firedAt, ignoreDelay: true },
  );
  yield* ctx.tx.markScheduleRun(schedule.id, firedAt, nextOccurrence(schedule.cron, firedAt));
}
