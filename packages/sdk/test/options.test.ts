import { describe, expect, it } from "vitest";
import { buildOptions, DEFAULT_TIMEOUT, isOptions, splitArgs } from "../src/options";

describe("options", () => {
  it("maps a bare group name to an anycast address, and keeps addresses and urls", () => {
    expect(buildOptions({ target: "workers" }).target).toBe("poll://any@workers");
    expect(buildOptions({ target: "poll://any@workers" }).target).toBe("poll://any@workers");
    expect(buildOptions({ target: "poll://any@workers/w2" }).target).toBe("poll://any@workers/w2");
    expect(buildOptions({ target: "http://localhost:9999/hook" }).target).toBe("http://localhost:9999/hook");
  });

  it("defaults like the official SDK: target default, 24 h, no tags, version 0", () => {
    const opts = buildOptions();
    expect(opts).toMatchObject({ target: "poll://any@default", timeout: DEFAULT_TIMEOUT, tags: {}, version: 0 });
    expect(DEFAULT_TIMEOUT).toBe(86_400_000);
  });

  it("rejects what cannot be sent", () => {
    expect(() => buildOptions({ target: "two words" })).toThrow(/Invalid target/);
    expect(() => buildOptions({ timeout: 0 })).toThrow(/timeout/);
    expect(() => buildOptions({ timeout: 1.5 })).toThrow(/timeout/);
    expect(() => buildOptions({ version: -1 })).toThrow(/version/);
    expect(() => buildOptions({ tags: { n: 1 as unknown as string } })).toThrow(/tag "n"/);
  });

  it("is frozen and recognisable as the last argument", () => {
    const opts = buildOptions({ target: "workers" });
    expect(Object.isFrozen(opts)).toBe(true);
    expect(isOptions(opts)).toBe(true);
    expect(isOptions({ target: "workers" })).toBe(false);
    expect(splitArgs([1, 2, opts])).toEqual([[1, 2], opts]);
    const [args, defaults] = splitArgs([1, { target: "x" }]);
    expect(args).toEqual([1, { target: "x" }]);
    expect(defaults.target).toBe("poll://any@default");
  });
});
