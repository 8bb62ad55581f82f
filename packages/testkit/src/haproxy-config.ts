import { fileURLToPath } from "node:url";

/** The configuration shipped to users, which the test proxies are started from. */
export const HAPROXY_TEMPLATE = fileURLToPath(new URL("../../../deploy/haproxy/resonate.cfg", import.meta.url));

export interface Endpoint {
  host: string;
  port: number;
}

/**
 * The shipped configuration with its `bind` line pointed at `bind`, its `server` lines replaced by
 * one per backend (named replica1, replica2, …, in order), and a runtime API socket added to
 * `global`. Everything else is kept, so the tests exercise the settings users get. Throws if the
 * template no longer has exactly one `bind` line or any `server` line: the substitution would
 * silently test something else.
 */
export function renderHaproxyConfig(template: string, bind: Endpoint, backends: readonly Endpoint[], runtimeSocket: string): string {
  const lines = template.split("\n");
  const binds = lines.filter((line) => /^\s*bind\s/.test(line));
  if (binds.length !== 1) throw new Error(`the HAProxy template should have one bind line, not ${binds.length}`);
  const firstServer = lines.findIndex((line) => /^\s*server\s/.test(line));
  if (firstServer < 0) throw new Error("the HAProxy template has no server line to replace");
  const globalLine = lines.findIndex((line) => /^global\s*$/.test(line));
  if (globalLine < 0) throw new Error("the HAProxy template has no global section");

  const indent = (line: string) => /^\s*/.exec(line)![0];
  const serverIndent = indent(lines[firstServer]!);
  const out: string[] = [];
  lines.forEach((line, index) => {
    if (/^\s*bind\s/.test(line)) {
      out.push(`${indent(line)}bind ${address(bind)}`);
    } else if (index === firstServer) {
      backends.forEach((backend, i) => out.push(`${serverIndent}server replica${i + 1} ${address(backend)}`));
    } else if (!/^\s*server\s/.test(line)) {
      out.push(line);
    }
    if (index === globalLine) {
      out.push("    # Added by packages/testkit: the runtime API, to read the replicas' states.");
      out.push(`    stats socket ${runtimeSocket} mode 600 level admin`);
    }
  });
  return out.join("\n");
}

/** HAProxy writes IPv6 addresses with an ipv6@ prefix, not in brackets. */
function address({ host, port }: Endpoint): string {
  return host.includes(":") ? `ipv6@${host}:${port}` : `${host}:${port}`;
}

/** host and port of an http:// URL; URL() keeps IPv6 hosts in brackets, which HAProxy does not want. */
export function endpointOf(url: string): Endpoint {
  const parsed = new URL(url);
  if (parsed.protocol !== "http:") throw new Error(`backend ${url}: only http:// backends are supported`);
  return { host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"), port: Number(parsed.port || 80) };
}
