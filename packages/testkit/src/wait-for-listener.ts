import { connect } from "node:net";
import type { Supervised } from "./supervise";

/**
 * Resolves "ready" once host:port accepts a TCP connection, "exited" if the service ends first,
 * or a timeout message. Polls every 20 ms: a proxy binds within milliseconds of starting.
 */
export async function waitForListener(service: Supervised, host: string, port: number, timeoutMs: number): Promise<"ready" | "exited" | string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (service.hasExited) return "exited";
    if (await accepts(host, port)) return service.hasExited ? "exited" : "ready";
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return `not listening on ${host}:${port} after ${timeoutMs} ms`;
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
