// Before any check: is there a server at the URL, does it speak protocol 2026-04-01, and is it in
// debug mode? A server that fails the first two questions gets exit code 2, not a list of failures.
import { PROTOCOL_VERSION } from "@resonate-compat/protocol";
import type { Api } from "./api.js";
import type { ServerInfo } from "./check.js";

export class Unusable extends Error {}

export async function probe(api: Api, runId: string): Promise<ServerInfo> {
  let reply;
  try {
    // Any well-formed read does: an unknown id must come back as a 404 envelope.
    reply = await api.call("promise.get", { id: `conf-${runId}-probe` });
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause?.message;
    throw new Unusable(`cannot reach ${api.url}: ${(e as Error).message}${cause ? ` (${cause})` : ""}`);
  }
  if (reply.version !== PROTOCOL_VERSION) {
    const what = typeof reply.body === "string" ? `HTTP ${reply.httpStatus}, not a protocol envelope` : `head.version ${JSON.stringify(reply.version)}`;
    throw new Unusable(`${api.url} does not speak protocol ${PROTOCOL_VERSION} (${what})`);
  }
  if (reply.status === 401 || reply.status === 403) throw new Unusable(`${api.url} refused the kit's request (${reply.status}): pass a token with --token`);
  // In debug mode `debug.tick {}` fails its own validation (400); otherwise every debug.* kind
  // answers 403 (§6.4). Cheaper than a debug.snap of a server full of data, and changes nothing.
  const tick = await api.call("debug.tick", {});
  return { url: api.url, debug: tick.status === 400 };
}
