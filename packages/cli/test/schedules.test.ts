import { describe, expect, it } from "vitest";
import { base64Json, cli, cliJson, useServer } from "./helpers";

const env = useServer();
const S = () => ["-S", env.url];

describe("resonate schedules", () => {
  it("creates, gets, searches and deletes", async () => {
    const created = await cli([
      "schedules", "create", "nightly", "--cron", "0 2 * * *", "--promise-id", "{{.id}}-{{.timestamp}}", "--promise-timeout", "1h",
      "--promise-param", '{"func":"report","args":[],"version":1}', "--promise-tags", '{"resonate:target":"poll://any@reports"}', ...S(),
    ]);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/id:\s+nightly/);
    expect(created.stdout).toMatch(/cron:\s+0 2 \* \* \*/);
    expect(created.stdout).toMatch(/promise timeout:\s+1h/);
    expect(created.stdout).toMatch(/next run:\s+\d{4}-\d\d-\d\d 02:00:00Z \(in /);

    const { schedule } = await cliJson(["schedule", "get", "nightly", ...S()]);
    expect(schedule).toMatchObject({
      id: "nightly", cron: "0 2 * * *", promiseId: "{{.id}}-{{.timestamp}}", promiseTimeout: 3_600_000,
      promiseParam: { headers: {}, data: base64Json({ func: "report", args: [], version: 1 }) },
      promiseTags: { "resonate:target": "poll://any@reports" },
    });

    await cliJson(["schedules", "create", "hourly", "--cron", "0 * * * *", "--promise-id", "h-{{.timestamp}}", "--promise-timeout", "10m",
      "--promise-tags", '{"resonate:target":"poll://any@other"}', ...S()]);
    const table = await cli(["schedules", "search", ...S()]);
    expect(table.stdout).toMatch(/^ID\s+CRON\s+PROMISE ID\s+PROMISE TIMEOUT\s+NEXT RUN\s+LAST RUN\n/);
    expect(table.stdout).toMatch(/hourly\s+0 \* \* \* \*\s+h-\{\{\.timestamp\}\}\s+10m/);
    const byTag = await cliJson(["schedules", "search", "--tags", '{"resonate:target":"poll://any@reports"}', ...S()]);
    expect(byTag.schedules.map((s: { id: string }) => s.id)).toEqual(["nightly"]);
    const paged = await cli(["schedules", "search", "--limit", "1", ...S()]);
    expect(paged.stdout).toContain("more: --cursor hourly");

    expect(await cli(["schedules", "delete", "nightly", ...S()])).toMatchObject({ code: 0, stdout: "schedule nightly deleted\n" });
    const gone = await cli(["schedules", "delete", "nightly", ...S()]);
    expect(gone).toMatchObject({ code: 1, stderr: "error: 404 Schedule not found\n" });
  });

  it("shows the server's validation message for a bad cron", async () => {
    const bad = await cli(["schedules", "create", "bad", "--cron", "not a cron", "--promise-id", "x", "--promise-timeout", "1m",
      "--promise-tags", '{"resonate:target":"poll://any@w"}', ...S()]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: 400 .*cron/i);
  });
});
