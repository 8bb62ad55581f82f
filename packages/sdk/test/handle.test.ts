import { describe, expect, it } from "vitest";
import { encode } from "../src/codec";
import { PromiseCanceledError, PromiseRejectedError, PromiseTimedOutError } from "../src/errors";
import { outcome, PromiseHandle } from "../src/handle";
import { FakeHttp } from "./support/fake-http";
import { promiseRecord } from "./support/fake-server";

const settled = (state: string, value: unknown = undefined) => promiseRecord("p", { state, value: value === undefined ? {} : encode(value), settledAt: 1 }) as never;

describe("handle", () => {
  it("resolves a resolved promise to its decoded value", () => {
    expect(outcome(settled("resolved", { n: 84 }))).toEqual({ n: 84 });
    expect(outcome(settled("resolved"))).toBeUndefined();
  });

  it("throws the decoded Error of a rejected promise", () => {
    const err = new RangeError("too big");
    expect(() => outcome(settled("rejected", err))).toThrow(expect.objectContaining({ name: "RangeError", message: "too big" }));
  });

  it("wraps a rejection that is not an Error", () => {
    expect(() => outcome(settled("rejected", "oops"))).toThrow(PromiseRejectedError);
    expect(() => outcome(settled("rejected", "oops"))).toThrow("oops");
  });

  it("throws timed-out and canceled errors", () => {
    expect(() => outcome(settled("rejected_timedout"))).toThrow(PromiseTimedOutError);
    expect(() => outcome(settled("rejected_canceled"))).toThrow(PromiseCanceledError);
  });

  it("result() answers from a settled record without waiting", async () => {
    const listeners = { wait: () => Promise.reject(new Error("must not wait")) };
    const handle = new PromiseHandle(settled("resolved", 7), listeners, new FakeHttp());
    expect(handle.id).toBe("p");
    await expect(handle.result()).resolves.toBe(7);
    await expect(handle.done()).resolves.toBe(true);
  });

  it("result() waits for a pending one; done() asks the server", async () => {
    const http = new FakeHttp().on("promise.get", (_d, i) => ({ status: 200, data: { promise: i === 0 ? promiseRecord("p") : settled("resolved", 1) } }));
    const waits: string[] = [];
    const listeners = { wait: async (id: string) => (waits.push(id), settled("resolved", 2)) };
    const handle = new PromiseHandle(promiseRecord("p") as never, listeners, http);
    await expect(handle.done()).resolves.toBe(false);
    await expect(handle.done()).resolves.toBe(true);
    const fresh = new PromiseHandle(promiseRecord("p") as never, listeners, http);
    await expect(fresh.result()).resolves.toBe(2);
    expect(waits).toEqual(["p"]);
  });
});
