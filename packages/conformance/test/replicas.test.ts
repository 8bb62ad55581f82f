// The kit against two replicas of our server on one throwaway PostgreSQL, behind the HAProxy
// configuration we ship: the kit only knows the proxy's URL. The replicas are not in debug mode,
// so the debug-mode checks and the differential suite are reported as skipped.
import { afterAll, expect, test } from "vitest";
import { type PostgresHandle, type ProxyHandle, freePort, startPostgres, startProxy } from "@resonate-compat/testkit";
import { type Proc, runKit, startServer, summary } from "./processes.js";

let postgres: PostgresHandle | undefined;
let proxy: ProxyHandle | undefined;
const replicas: Proc[] = [];
afterAll(async () => {
  await proxy?.stop();
  for (const r of replicas) await r.kill();
  await postgres?.stop();
});

test("pnpm conformance against two PostgreSQL replicas behind HAProxy: nothing fails", async () => {
  postgres = await startPostgres({ fsync: false });
  const database = await postgres.createDatabase();
  const proxyPort = await freePort();
  const proxyUrl = `http://127.0.0.1:${proxyPort}`;
  const urls: string[] = [];
  for (const name of ["r1", "r2"]) {
    const s = await startServer(["--storage-type", "postgres", "--storage-postgres-url", database, "--replica-id", name, "--url", proxyUrl]);
    replicas.push(s.proc);
    urls.push(s.url);
  }
  proxy = await startProxy({ backends: urls, port: proxyPort });
  for (let i = 0; i < urls.length; i++) await proxy.waitForServer(i, "UP", 10_000);

  const run = await runKit(["--url", proxyUrl, "--json"]);
  const counts = summary(run.output);
  expect(counts, "the summary line").toBeDefined();
  const report = JSON.parse(run.stdout) as { results: { name: string; outcome: string; reason?: string }[] };
  const failed = report.results.filter((r) => r.outcome === "failed");
  expect(failed.map((f) => `${f.name}: ${f.reason}`)).toEqual([]);
  expect(run.code).toBe(0);
  expect(run.output).toMatch(/debug mode: no/);
  expect(report.results.find((r) => r.name.startsWith("sdk: kill mid-claim"))?.outcome).toBe("passed");
  expect(report.results.filter((r) => r.name.startsWith("differential:")).map((r) => r.outcome)).toEqual(["skipped", "skipped", "skipped"]);
});
