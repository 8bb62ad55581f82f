import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "../src/duration";
import { decodeValue, describeValue, valueFromJson } from "../src/values";
import { buildTree, renderTree } from "../src/commands/tree";
import { buildProgram } from "../src/program";
import type { Command } from "commander";

// The pure parts, in process: durations, value encoding, tree layout, and help on every command.

describe("durations", () => {
  it("reads the reference CLI's forms", () => {
    expect(parseDuration("100ms")).toBe(100);
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("1m30s")).toBe(90_000);
    expect(parseDuration("1h")).toBe(3_600_000);
    expect(parseDuration("24h")).toBe(86_400_000);
    expect(parseDuration("2d")).toBe(172_800_000);
    expect(parseDuration("0")).toBe(0);
  });

  it("refuses what it cannot read", () => {
    for (const bad of ["", "10", "1x", "h", "1h30", "1.5h", "-1s", "1 h"]) expect(() => parseDuration(bad), bad).toThrow();
  });

  it("writes durations back", () => {
    expect(formatDuration(90_000)).toBe("1m30s");
    expect(formatDuration(250)).toBe("250ms");
    expect(formatDuration(86_400_000 + 1_000)).toBe("1d1s");
  });
});

describe("values", () => {
  it("encodes any JSON as the SDKs do, and the reference's {data,headers} form as the reference", () => {
    expect(valueFromJson({ a: 1 })).toEqual({ headers: {}, data: Buffer.from('{"a":1}').toString("base64") });
    expect(valueFromJson(42)).toEqual({ headers: {}, data: Buffer.from("42").toString("base64") });
    expect(valueFromJson({ data: "hi" })).toEqual({ data: Buffer.from("hi").toString("base64") });
    expect(valueFromJson({ data: { x: 1 }, headers: { k: "v" } })).toEqual({ headers: { k: "v" }, data: Buffer.from('{"x":1}').toString("base64") });
    expect(() => valueFromJson({ headers: { k: 1 } })).toThrow(/headers/);
  });

  it("decodes base64 JSON, names text and binary for what they are", () => {
    expect(decodeValue({ data: Buffer.from('{"a":1}').toString("base64") })).toEqual({ kind: "json", value: { a: 1 } });
    expect(decodeValue({})).toEqual({ kind: "none" });
    expect(describeValue({ data: Buffer.from("hello").toString("base64") })).toBe("hello (plain text)");
    expect(describeValue({ data: Buffer.from([0, 255, 1]).toString("base64") })).toMatch(/binary/);
    expect(describeValue({ data: "not base64!" })).toMatch(/binary/);
  });
});

describe("tree layout", () => {
  const p = (id: string, parent: string | undefined, createdAt: number, tags: Record<string, string> = {}) => ({
    id, state: "pending" as const, param: {}, value: {}, createdAt, timeoutAt: 0,
    tags: { "resonate:origin": "r", ...(parent && { "resonate:parent": parent }), ...tags },
  });

  it("links by parent, orders by creation, hangs orphans under the root", () => {
    const tree = buildTree("r", undefined, [
      p("r", "r", 0), p("r.1", "r", 2), p("r.0", "r", 1), p("r.0.0", "r.0", 3), p("lost", "gone", 4),
    ]);
    expect(renderTree(tree)).toEqual([
      "r  pending",
      "├── r.0  pending",
      "│   └── r.0.0  pending",
      "├── r.1  pending",
      "└── lost  pending",
    ]);
  });

  it("says when the root itself is missing", () => {
    expect(renderTree(buildTree("r", undefined, [p("r.0", "r", 1, { "resonate:timer": "true" })]))).toEqual([
      "r  (not found)",
      "└── r.0  pending  sleep",
    ]);
  });
});

describe("help", () => {
  it("exists for every command, with a description", () => {
    const walk = (command: Command, path: string[]): string[][] =>
      command.commands.flatMap((c) => [[...path, c.name()], ...walk(c, [...path, c.name()])]);
    const program = buildProgram();
    const paths = walk(program, []);
    expect(paths.map((p) => p.join(" "))).toEqual(expect.arrayContaining([
      "serve", "dev", "promises get", "promises register-listener", "tasks claim", "tasks complete", "tasks heartbeat",
      "schedules create", "schedules search", "invoke", "tree",
    ]));
    for (const path of paths) {
      let command: Command = program;
      for (const name of path) command = command.commands.find((c) => c.name() === name)!;
      expect(command.description(), path.join(" ")).not.toBe("");
      expect(command.helpInformation()).toContain(`Usage: resonate ${path.join(" ")}`);
    }
  });
});
