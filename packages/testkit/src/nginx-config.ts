import { fileURLToPath } from "node:url";
import type { Endpoint } from "./haproxy-config";

/** The nginx configuration shipped to users (a piece of nginx's http block). */
export const NGINX_TEMPLATE = fileURLToPath(new URL("../../../deploy/nginx/resonate.conf", import.meta.url));

/**
 * The shipped piece with its `listen` line pointed at `listen` and its upstream `server` lines
 * replaced by one per backend, each with the parameters the first shipped line has
 * (max_fails=… fail_timeout=…). Everything else is kept. Throws if the template no longer has
 * exactly one `listen` line or any upstream `server` line.
 */
export function renderNginxSite(template: string, listen: Endpoint, backends: readonly Endpoint[]): string {
  const upstreamServer = /^(\s*)server\s+(\S+?)(\s[^;{]*)?;/;
  const lines = template.split("\n");
  const listens = lines.filter((line) => /^\s*listen\s/.test(line));
  if (listens.length !== 1) throw new Error(`the nginx template should have one listen line, not ${listens.length}`);
  const first = lines.findIndex((line) => upstreamServer.test(line));
  if (first < 0) throw new Error("the nginx template has no upstream server line to replace");
  const [, indent, , parameters] = upstreamServer.exec(lines[first]!)!;
  const out: string[] = [];
  lines.forEach((line, index) => {
    if (/^\s*listen\s/.test(line)) {
      out.push(`${/^\s*/.exec(line)![0]}listen ${address(listen)};`);
    } else if (index === first) {
      for (const backend of backends) out.push(`${indent}server ${address(backend)}${parameters ?? ""};`);
    } else if (!upstreamServer.test(line)) {
      out.push(line);
    }
  });
  return out.join("\n");
}

/**
 * The main configuration around the shipped piece: one nginx process in the foreground (no
 * master and workers, so the supervisor's child is all of nginx), everything it writes in folder,
 * errors on standard error, no access log.
 */
export function nginxMainConfig(folder: string, site: string): string {
  return [
    "daemon off;",
    "master_process off;",
    `pid ${folder}/nginx.pid;`,
    "error_log stderr notice;",
    "events { worker_connections 4096; }",
    "http {",
    "    access_log off;",
    ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((kind) => `    ${kind}_temp_path ${folder}/${kind}_temp;`),
    `    include ${site};`,
    "}",
    "",
  ].join("\n");
}

function address({ host, port }: Endpoint): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
