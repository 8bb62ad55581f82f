// Addresses (spec §4.4): where execute and unblock messages go.

export type Address =
  | { scheme: "poll"; cast: "any" | "uni"; group: string; id: string | undefined }
  | { scheme: "http"; url: string }
  | { scheme: "unsupported"; protocol: string };

const UNSUPPORTED_SCHEMES = new Set(["gcps:", "bash:"]);

/**
 * Parses an address; returns undefined when it is not one the protocol accepts.
 * `poll://any@workers/pid` → { cast: "any", group: "workers", id: "pid" }.
 */
export function parseAddress(text: string): Address | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  switch (url.protocol) {
    case "http:":
    case "https:":
      return url.host === "" ? undefined : { scheme: "http", url: text };
    case "poll:": {
      const cast = url.username;
      if ((cast !== "any" && cast !== "uni") || url.password !== "" || url.hostname === "") return undefined;
      const path = url.pathname.startsWith("/") ? url.pathname.slice(1) : url.pathname;
      const group = decode(url.host);
      const id = path === "" ? "" : decode(path);
      if (group === undefined || group === "" || id === undefined) return undefined;
      return { scheme: "poll", cast, group, id: id === "" ? undefined : id };
    }
    default:
      return UNSUPPORTED_SCHEMES.has(url.protocol) && url.host !== ""
        ? { scheme: "unsupported", protocol: url.protocol }
        : undefined;
  }
}

/** Percent-decoding that reports malformed input (`%ZZ`) as undefined instead of throwing. */
function decode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

export function isValidAddress(text: string): boolean {
  return parseAddress(text) !== undefined;
}

/** What the official SDK does with a target option: a URL stays, anything else is a group name. */
export function targetFromOption(target: string): string {
  return isValidAddress(target) ? target : `poll://any@${target}`;
}

export function anycastAddress(group: string, pid: string): string {
  return `poll://any@${group}/${pid}`;
}

export function unicastAddress(group: string, pid: string): string {
  return `poll://uni@${group}/${pid}`;
}
