import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port";
import { findExecutable } from "./find-executable";
import { endpointOf, HAPROXY_TEMPLATE, renderHaproxyConfig } from "./haproxy-config";
import { haproxyCommand, type ProxyServerState, serverStates } from "./haproxy-runtime";
import { type Supervised, supervise } from "./supervise";

/** The backend section of deploy/haproxy/resonate.cfg. */
const BACKEND = "replicas";
const PORT_ATTEMPTS = 3;

export interface StartProxyOptions {
  /** The replicas, as http://host:port URLs; HAProxy names them replica1, replica2, … in this order. */
  backends: readonly string[];
  /** The address to listen on (default 127.0.0.1). */
  host?: string;
  /** The port to listen on (default: a free one). */
  port?: number;
  /** The configuration to start from (default: deploy/haproxy/resonate.cfg, the one shipped to users). */
  template?: string;
  /** How long to wait for HAProxy to listen, in ms (default 10000). */
  startTimeoutMs?: number;
}

export interface ProxyHandle {
  /** http://host:port of the proxy: point clients and workers here. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** HAProxy's pid. */
  readonly pid: number;
  /** The configuration HAProxy runs with (in a temp folder removed by stop()). */
  readonly configFile: string;
  /** The replicas as HAProxy sees them, in the order of options.backends. */
  servers(): Promise<ProxyServerState[]>;
  /**
   * Waits until replica number `index` (0-based, as in options.backends) has the status "UP" or
   * "DOWN" (not in transition), or throws after timeoutMs (default 10000).
   */
  waitForServer(index: number, status: "UP" | "DOWN", timeoutMs?: number): Promise<void>;
  /** Sends a command to HAProxy's runtime API (e.g. "disable server replicas/replica1"). */
  command(line: string): Promise<string>;
  /** HAProxy's last lines of output (replica state changes, warnings). */
  log(): string;
  /** Stops HAProxy (its streams are cut) and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * HAProxy in front of server replicas, configured from deploy/haproxy/resonate.cfg, on a free
 * loopback port. It ends with stop(), and also when the calling process dies without calling it.
 */
export async function startProxy(options: StartProxyOptions): Promise<ProxyHandle> {
  if (options.backends.length === 0) throw new Error("startProxy needs at least one backend");
  const haproxy = findExecutable("haproxy");
  if (!haproxy) {
    throw new Error(
      "haproxy not found on PATH or in /usr/sbin. On Debian or Ubuntu: `apt-get install haproxy` " +
        "(or run `bash scripts/setup.sh` as root, which does it); elsewhere install HAProxy 2.6 or newer.",
    );
  }
  const template = await readFile(options.template ?? HAPROXY_TEMPLATE, "utf8");
  const host = options.host ?? "127.0.0.1";
  for (let attempt = 1; ; attempt++) {
    const started = await startOnce(haproxy, template, host, options);
    if (started !== "port-taken") return started;
    if (options.port !== undefined || attempt === PORT_ATTEMPTS) throw new Error("HAProxy could not bind its port");
  }
}

async function startOnce(haproxy: string, template: string, host: string, options: StartProxyOptions): Promise<ProxyHandle | "port-taken"> {
  const folder = await mkdtemp(join(tmpdir(), "resonate-haproxy-"));
  let service: Supervised | undefined;
  try {
    const port = options.port ?? (await freePort(host));
    const socket = join(folder, "admin.sock");
    const configFile = join(folder, "haproxy.cfg");
    await writeFile(configFile, renderHaproxyConfig(template, { host, port }, options.backends.map(endpointOf), socket));
    service = await supervise({
      // -db: stay in the foreground, so the supervisor's child is HAProxy itself.
      command: haproxy,
      args: ["-db", "-f", configFile],
      // SIGTERM is HAProxy's hard stop; SIGUSR1 would wait for hour-long streams to end.
      stopSignal: "SIGTERM",
      graceSeconds: 5,
      removeFolder: folder,
      cwd: folder,
    });
    const outcome = await waitForRuntimeSocket(service, socket, options.startTimeoutMs ?? 10_000);
    if (outcome !== "ready") {
      await service.stop();
      if (/cannot bind socket/i.test(service.output())) return "port-taken";
      throw new Error(`HAProxy did not start (${outcome}). Its output:\n${service.output()}`);
    }
    service.unref();
    const running = service;
    const servers = () => serverStates(socket, BACKEND);
    return {
      url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
      host,
      port,
      pid: running.pid,
      configFile,
      servers,
      async waitForServer(index, status, timeoutMs = 10_000) {
        const deadline = Date.now() + timeoutMs;
        let last = "";
        while (Date.now() < deadline) {
          last = (await servers())[index]?.status ?? "absent";
          if (last === status) return;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        throw new Error(`replica${index + 1} is still ${last}, not ${status}, after ${timeoutMs} ms`);
      },
      command: (line) => haproxyCommand(socket, line),
      log: () => running.output(),
      stop: () => running.stop(),
    };
  } catch (error) {
    if (service) await service.stop();
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Ready once HAProxy answers on its runtime socket: it opens that socket after binding every
 * listener, and only our HAProxy has it (a TCP probe of the port could reach another process that
 * took the port first).
 */
async function waitForRuntimeSocket(service: Supervised, socket: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (service.hasExited) return "exited";
    const answered = await haproxyCommand(socket, "show info").then(
      () => true,
      () => false,
    );
    if (answered) return "ready";
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return `no answer on its runtime socket after ${timeoutMs} ms`;
}
