// Shared by the official-SDK children (Node 22): a logger that is quiet except for warnings and
// errors (to stderr), and that resolves `connected` when the SDK reports its poll stream open.
import { traceHop } from "./hop-trace-client.mjs";

export function makeLogger() {
  let resolveConnected;
  const connected = new Promise((r) => {
    resolveConnected = r;
  });
  const logger = {
    debug(fields, msg) {
      // The SDK's EventSource has parsed a message and hands it over (pnpm bench --hops).
      if (msg === "message received") traceHop("deliver", fields.msg_kind, fields.task_id ?? fields.promise_id);
    },
    info(_fields, msg) {
      if (msg === "adapter connected" || msg === "adapter reconnected") resolveConnected();
    },
    warn(fields, msg) {
      process.stderr.write(`${JSON.stringify({ level: "warn", msg, ...fields })}\n`);
    },
    error(fields, msg) {
      process.stderr.write(`${JSON.stringify({ level: "error", msg, ...fields })}\n`);
    },
  };
  return { logger, connected };
}
