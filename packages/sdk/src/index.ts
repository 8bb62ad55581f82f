// The public surface of the SDK.
export { Resonate } from "./resonate";
export type { ResonateConfig } from "./config";
export type { Context, FencingToken } from "./context";
export type { Handle } from "./handle";
export type { CallOptions, Options } from "./options";
export type { Logger, LogLevel, LogFields } from "./logger";
export type { RetryPolicy } from "./http-client";
export type { Clock, Timer } from "./clock";
export { ConsoleLogger } from "./logger";
export { ManualClock, systemClock } from "./clock";
export { encode, decode, CodecError } from "./codec";
export {
  ResonateError,
  PromiseNotFoundError,
  ResonateUnreachableError,
  ResonateConfigError,
  FunctionNotRegisteredError,
  LeaseLostError,
  ResonateStoppedError,
  PromiseTimedOutError,
  PromiseCanceledError,
  PromiseRejectedError,
} from "./errors";
export type { LeaseLossReason } from "./errors";
