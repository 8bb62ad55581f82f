import type { Kind, RequestData } from "@resonate-compat/protocol";
import type { Op } from "../store/op";
import type { OpContext, Reply } from "./context";
import { debugReset, debugSnap, debugTick } from "./debug";
import {
  promiseCreate,
  promiseGet,
  promiseRegisterCallback,
  promiseRegisterListener,
  promiseSearch,
  promiseSettle,
} from "./promises";
import { scheduleCreate, scheduleDelete, scheduleGet, scheduleSearch } from "./schedules";
import {
  taskAcquire,
  taskContinue,
  taskCreate,
  taskFence,
  taskFulfill,
  taskGet,
  taskHalt,
  taskHeartbeat,
  taskRelease,
  taskSearch,
  taskSuspend,
} from "./tasks";

/** Kinds whose whole effect is in the store; debug.start/stop pause the loops and live in the API. */
export type StoredKind = Exclude<Kind, "debug.start" | "debug.stop">;

type Operation<K extends StoredKind> = (ctx: OpContext, data: RequestData<K>) => Op<Reply>;

/** Every stored operation by kind: one operation over the store, run inside one transaction. */
export const operations: { [K in StoredKind]: Operation<K> } = {
  "promise.get": promiseGet,
  "promise.create": promiseCreate,
  "promise.settle": promiseSettle,
  "promise.register_callback": promiseRegisterCallback,
  "promise.register_listener": promiseRegisterListener,
  "promise.search": promiseSearch,
  "task.get": taskGet,
  "task.create": taskCreate,
  "task.acquire": taskAcquire,
  "task.release": taskRelease,
  "task.suspend": taskSuspend,
  "task.fulfill": taskFulfill,
  "task.fence": taskFence,
  "task.heartbeat": taskHeartbeat,
  "task.halt": taskHalt,
  "task.continue": taskContinue,
  "task.search": taskSearch,
  "schedule.get": scheduleGet,
  "schedule.create": scheduleCreate,
  "schedule.delete": scheduleDelete,
  "schedule.search": scheduleSearch,
  "debug.reset": debugReset,
  "debug.snap": debugSnap,
  "debug.tick": debugTick,
};
