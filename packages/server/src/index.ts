export { startServer, type RunningServer, type StartOptions } from "./server";
export { resolveConfig, type ServerConfig, type ServerOptions } from "./config";
export { ManualClock, SystemClock, type Clock } from "./clock";
