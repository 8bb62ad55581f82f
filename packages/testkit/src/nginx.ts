import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findExecutable } from "./find-executable";
import { freePort } from "./free-port";
import { endpointOf } from "./haproxy-config";
import { NGINX_TEMPLATE, nginxMainConfig, renderNginxSite } from "./nginx-config";
import { type Supervised, supervise } from "./supervise";
import { waitForListener } from "./wait-for-listener";

const PORT_ATTEMPTS = 3;

export interface StartNginxOptions {
  /** The replicas, as http://host:port URLs. */
  backends: readonly string[];
  /** The address to listen on (default 127.0.0.1). */
  host?: string;
  /** The port to listen on (default: a free one). */
  port?: number;
  /** The configuration piece to start from (default: deploy/nginx/resonate.conf, the one shipped to users). */
  template?: string;
  /** How long to wait for nginx to listen, in ms (default 10000). */
  startTimeoutMs?: number;
}

export interface NginxHandle {
  /** http://host:port of the proxy. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** nginx's pid (a single process: no master and workers). */
  readonly pid: number;
  /** The main configuration nginx runs with (in a temp folder removed by stop()). */
  readonly configFile: string;
  /** nginx's last lines of output. */
  log(): string;
  /** Stops nginx (its streams are cut) and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * nginx in front of server replicas, configured from deploy/nginx/resonate.conf, on a free loopback
 * port: the alternative to startProxy's HAProxy. It ends with stop(), and also when the calling
 * process dies without calling it.
 */
export async function startNginx(options: StartNginxOptions): Promise<NginxHandle> {
  if (options.backends.length === 0) throw new Error("startNginx needs at least one backend");
  const nginx = findExecutable("nginx");
  if (!nginx) {
    throw new Error(
      "nginx not found on PATH or in /usr/sbin. On Debian or Ubuntu: `apt-get install nginx` " +
        "(or run `bash scripts/setup.sh` as root, which does it).",
    );
  }
  const template = await readFile(options.template ?? NGINX_TEMPLATE, "utf8");
  const host = options.host ?? "127.0.0.1";
  for (let attempt = 1; ; attempt++) {
    const started = await startOnce(nginx, template, host, options);
    if (started !== "port-taken") return started;
    if (options.port !== undefined || attempt === PORT_ATTEMPTS) throw new Error("nginx could not bind its port");
  }
}

async function startOnce(nginx: string, template: string, host: string, options: StartNginxOptions): Promise<NginxHandle | "port-taken"> {
  const folder = await mkdtemp(join(tmpdir(), "resonate-nginx-"));
  let service: Supervised | undefined;
  try {
    const port = options.port ?? (await freePort(host));
    const site = join(folder, "resonate.conf");
    const configFile = join(folder, "nginx.conf");
    await writeFile(site, renderNginxSite(template, { host, port }, options.backends.map(endpointOf)));
    await writeFile(configFile, nginxMainConfig(folder, site));
    service = await supervise({
      // -e: errors found before the configuration is read go to stderr, not /var/log/nginx.
      command: nginx,
      args: ["-p", folder, "-c", configFile, "-e", "stderr"],
      // SIGTERM is nginx's fast shutdown; SIGQUIT would wait for hour-long streams to end.
      stopSignal: "SIGTERM",
      graceSeconds: 5,
      removeFolder: folder,
      cwd: folder,
    });
    const outcome = await waitForListener(service, host, port, options.startTimeoutMs ?? 10_000);
    if (outcome !== "ready") {
      await service.stop();
      if (/Address already in use/.test(service.output())) return "port-taken";
      throw new Error(`nginx did not start (${outcome}). Its output:\n${service.output()}`);
    }
    service.unref();
    const running = service;
    return {
      url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
      host,
      port,
      pid: running.pid,
      configFile,
      log: () => running.output(),
      stop: () => running.stop(),
    };
  } catch (error) {
    if (service) await service.stop();
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
}
