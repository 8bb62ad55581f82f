import * as protocol from "@resonate-compat/protocol";
import { describe, expect, it } from "vitest";
import { PROTOCOL_VERSION, TAG, targetAddress, unblockedPromise, unicastAddress } from "../src/wire";

// src/wire.ts keeps its own copy of a few protocol constants (to start without loading zod);
// they must stay what @resonate-compat/protocol says.

describe("wire constants", () => {
  it("agree with @resonate-compat/protocol", () => {
    expect(PROTOCOL_VERSION).toBe(protocol.PROTOCOL_VERSION);
    for (const [name, tag] of Object.entries(TAG)) expect(tag).toBe(protocol.TAG[name as keyof typeof protocol.TAG]);
    expect(unicastAddress("g", "p1")).toBe(protocol.unicastAddress("g", "p1"));
    for (const target of ["workers", "poll://any@workers", "poll://uni@g/p", "http://host:9/x", "https://h/"]) {
      expect(targetAddress(target)).toBe(protocol.targetFromOption(target));
    }
  });

  it("read unblock messages as the protocol package does", () => {
    const promise = { id: "p", state: "resolved", param: {}, value: {}, tags: {}, timeoutAt: 1, createdAt: 0, settledAt: 0 };
    const unblock = JSON.stringify({ kind: "unblock", head: {}, data: { promise } });
    expect(unblockedPromise(unblock)).toEqual(promise);
    expect(protocol.parseMessage(unblock)).toMatchObject({ kind: "unblock", data: { promise } });
    const execute = JSON.stringify({ kind: "execute", head: {}, data: { task: { id: "p", version: 0 } } });
    expect(unblockedPromise(execute)).toBeUndefined();
    expect(unblockedPromise("not json")).toBeUndefined();
  });
});
