// The hop attribution of pnpm bench --hops, on fake records: records of several processes are
// joined per invocation (first occurrence wins, other ids ignored), consecutive points become hops
// (a missing point merges its two neighbours), and the slowest 1 % by dispatch→start is where the
// "slowest 1%" column comes from.
import { describe, expect, it } from "vitest";
import { attributeHops, formatHopTable, hopsOf } from "../src/hops/hop-attribution";
import { parseHopRecords } from "../src/hops/hop-records";

const line = (t: number, hop: string, kind: string, id: string) => `${t}\t${hop}\t${kind}\t${id}\n`;

describe("hop records", () => {
  it("keeps the first time of each point per id and ignores other ids", () => {
    const server = line(10.5, "recv", "promise.create", "a-0") + line(11, "write", "execute", "a-0") + line(99, "write", "execute", "a-0") + line(12, "recv", "promise.create", "warm-0");
    const worker = line(11.25, "read", "execute", "a-0") + "garbage\n";
    const points = parseHopRecords(worker, new Set(["a-0"]), parseHopRecords(server, new Set(["a-0"])));
    expect([...points.keys()]).toEqual(["a-0"]);
    expect(points.get("a-0")).toEqual({ "recv promise.create": 10.5, "write execute": 11, "read execute": 11.25 });
  });
});

describe("hop attribution", () => {
  /** An invocation whose every hop of the path up to start takes `ms`, and whose SSE read → acquire takes `slow`. */
  const invocation = (i: number, slow: number) => {
    const at: Record<string, number> = {};
    let t = 1000 * i;
    at.due = t;
    for (const point of ["send promise.create", "recv promise.create", "run promise.create", "write execute", "read execute"]) at[point] = t += 1;
    at["send task.acquire"] = t += slow;
    at.start = t += 1;
    return { id: `x-${i}`, at };
  };

  it("merges the hops around a point an invocation lacks", () => {
    const hops = hopsOf(invocation(0, 3));
    expect(hops.map((h) => h.hop)).toEqual([
      "due → send promise.create",
      "send promise.create → recv promise.create",
      "recv promise.create → run promise.create",
      "run promise.create → write execute",
      "write execute → read execute",
      "read execute → send task.acquire",
      "send task.acquire → start",
    ]);
    expect(hops.map((h) => h.ms)).toEqual([1, 1, 1, 1, 1, 3, 1]);
    expect(hops.every((h) => h.beforeStart)).toBe(true);
  });

  it("puts the tail where the slowest 1 % spent it", () => {
    // 198 fast invocations and 2 whose worker took 50 ms from message to acquire: the slowest 1 %.
    const invs = Array.from({ length: 200 }, (_, i) => invocation(i, i >= 198 ? 50 : 0.5));
    const t = attributeHops(invs);
    expect(t.invocations).toBe(200);
    expect(t.slowest).toEqual({ n: 2, meanDispatchToStart: 56 });
    expect(t.dispatchToStart.p50).toBe(6.5);
    const row = (hop: string) => t.rows.find((r) => r.hop === hop)!;
    expect(row("read execute → send task.acquire")).toMatchObject({ n: 200, p50: 0.5, max: 50, meanInSlowest: 50, meaning: "worker SDK: message → acquire sent" });
    expect(row("write execute → read execute")).toMatchObject({ p50: 1, meanInSlowest: 1 });
    // Rows follow the path.
    expect(t.rows[0]!.hop).toBe("due → send promise.create");
    expect(t.rows.at(-1)!.hop).toBe("send task.acquire → start");
    expect(formatHopTable("t", t)).toContain("worker SDK: message → acquire sent");
  });

  it("marks hops after the function started, and copes with invocations that never started", () => {
    const done = { id: "y-0", at: { due: 0, start: 4, "send task.fulfill": 5, result: 9 } };
    const lost = { id: "y-1", at: { due: 10, "send promise.create": 11 } };
    const t = attributeHops([done, lost]);
    expect(t.slowest.n).toBe(1);
    expect(t.rows.map((r) => [r.hop, r.n, r.beforeStart])).toEqual([
      ["due → send promise.create", 1, true],
      ["due → start", 1, true],
      ["start → send task.fulfill", 1, false],
      ["send task.fulfill → result", 1, false],
    ]);
  });
});
