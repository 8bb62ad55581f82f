import { describe, expect, it } from "vitest";
import { isValidAddress, parseAddress, targetFromOption } from "../src/index";

describe("addresses (spec §4.4)", () => {
  it("reads poll addresses with and without a process id", () => {
    expect(parseAddress("poll://any@workers")).toEqual({ scheme: "poll", cast: "any", group: "workers", id: undefined });
    expect(parseAddress("poll://uni@client/c1")).toEqual({ scheme: "poll", cast: "uni", group: "client", id: "c1" });
    expect(parseAddress("poll://any@Workers/a%20b")).toEqual({ scheme: "poll", cast: "any", group: "Workers", id: "a b" });
  });

  it("accepts http(s) and the unsupported-but-valid transports", () => {
    expect(parseAddress("http://localhost:9999/hook")).toEqual({ scheme: "http", url: "http://localhost:9999/hook" });
    expect(parseAddress("gcps://project/topic")?.scheme).toBe("unsupported");
    expect(parseAddress("bash://script")?.scheme).toBe("unsupported");
  });

  it("refuses bare group names, unknown casts and schemes, and an empty group", () => {
    for (const bad of ["workers", "", "ftp://h/x", "poll://bob@workers", "poll://any@", "poll://workers", "http://"]) {
      expect(isValidAddress(bad), bad).toBe(false);
    }
  });

  it("turns a bare group name into an anycast target, as the official SDK does", () => {
    expect(targetFromOption("workers")).toBe("poll://any@workers");
    expect(targetFromOption("poll://uni@client/c1")).toBe("poll://uni@client/c1");
  });
});
