import { describe, expect, it } from "vitest";
import { FrameBatcher, frameItems } from "../src/channel";

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe("FrameBatcher", () => {
  it("sends what one turn pushed as one frame, and the next turn's as another", async () => {
    const frames: string[] = [];
    const batcher = new FrameBatcher((frame) => frames.push(frame));
    batcher.push("a1");
    batcher.push("a2");
    await Promise.resolve().then(() => batcher.push("a3")); // a microtask of the same turn
    expect(frames).toEqual([]);
    await nextTurn();
    batcher.push("b1");
    await nextTurn();
    expect(frames).toEqual(["a1\na2\na3", "b1"]);
    expect(frameItems(frames[0]!)).toEqual(["a1", "a2", "a3"]);
  });

  it("starts a new frame before one would pass its byte limit; an item over it goes alone", async () => {
    const frames: string[] = [];
    const batcher = new FrameBatcher((frame) => frames.push(frame), 10);
    for (const item of ["1234", "5678", "9abc", "this one is long", "x"]) batcher.push(item);
    await nextTurn();
    expect(frames).toEqual(["1234\n5678", "9abc", "this one is long", "x"]);
  });

  it("drops what clear() found waiting", async () => {
    const frames: string[] = [];
    const batcher = new FrameBatcher((frame) => frames.push(frame));
    batcher.push("gone");
    batcher.clear();
    await nextTurn();
    batcher.push("kept");
    await nextTurn();
    expect(frames).toEqual(["kept"]);
  });
});
