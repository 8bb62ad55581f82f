import { describe, expect, it } from "vitest";
import { describeIssues, parseMessage, requestSchemas } from "../src/index";

function problems(kind: keyof typeof requestSchemas, data: unknown): string {
  const result = requestSchemas[kind].safeParse(data);
  return result.success ? "" : describeIssues(result.error);
}

describe("request schemas (spec §6)", () => {
  it("answers with the spec's rule messages", () => {
    expect(problems("promise.create", { id: "", timeoutAt: -1 })).toBe("Promise ID is required; TimeoutAt must be a non-negative integer");
    expect(problems("task.suspend", { id: "r", version: 1, actions: [] })).toBe("Actions array cannot be empty");
    expect(problems("promise.search", { limit: 0 })).toBe("Limit must be a positive integer");
    expect(problems("promise.search", { limit: 1001 })).toBe("Invalid 'limit' — must be between 1 and 1000");
    expect(problems("debug.tick", {})).toBe("Missing or invalid 'time' field");
  });

  it("names the field of a type error", () => {
    expect(problems("promise.create", { id: "a", timeoutAt: "5" })).toMatch(/^Invalid request: timeoutAt: /);
    expect(problems("promise.create", { id: "a", timeoutAt: 1.5 })).toMatch(/^Invalid request: timeoutAt: /);
    expect(problems("promise.create", { id: "a", timeoutAt: 5, tags: { k: 1 } })).toMatch(/tags\.k/);
    expect(problems("promise.settle", { id: "a", state: "rejected_timedout" })).toMatch(/^Invalid request: state: /);
  });

  it("ignores unknown fields and keeps the presence of value fields", () => {
    const parsed = requestSchemas["promise.create"].parse({ id: "a", timeoutAt: 5, param: { data: "YQ==" }, extra: true });
    expect(parsed).toEqual({ id: "a", timeoutAt: 5, param: { data: "YQ==" }, tags: {} });
  });
});

describe("parseMessage (spec §7.1)", () => {
  it("reads execute and unblock messages and refuses other shapes", () => {
    expect(parseMessage('{"kind":"execute","head":{"serverUrl":"http://x"},"data":{"task":{"id":"t","version":0}}}')?.kind).toBe("execute");
    expect(parseMessage('{"kind":"unblock","head":{},"data":{"promise":{"id":"p","state":"resolved"}}}')?.kind).toBe("unblock");
    expect(parseMessage('{"kind":"execute","data":{"task":{"id":"t","version":0}}}')).toBeUndefined();
    expect(parseMessage("not json")).toBeUndefined();
  });
});
