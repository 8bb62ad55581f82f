import { afterAll, afterEach } from "vitest";
import type { SseStream, TestServer } from "../helpers";
import { stopTestPostgres, testStore } from "./postgres";

/**
 * What a test file's tests open, for it to close: the servers and poll streams pushed here are
 * closed after each test, and the file's PostgreSQL (when the tests run on it) after the last one.
 * Call once, at the top of the file.
 */
export function closedAfterEachTest(): { servers: TestServer[]; streams: SseStream[] } {
  const open = { servers: [] as TestServer[], streams: [] as SseStream[] };
  afterEach(async () => {
    for (const s of open.streams.splice(0)) s.close();
    for (const s of open.servers.splice(0)) await s.close();
  });
  afterAll(async () => {
    if (testStore() === "postgres") await stopTestPostgres();
  });
  return open;
}
