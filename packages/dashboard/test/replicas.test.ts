// The dashboard on two replicas sharing one PostgreSQL: the page, served by one replica, shows the
// workers of both with the replica each is connected to, and the history of a task whose worker on
// the other replica was SIGKILLed: taken back there, finished by the worker on this one.

import { type PostgresHandle, startPostgres } from "@resonate-compat/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Browser, openBrowser } from "./browser";
import { type Worker, World, until } from "./world";

const world = new World();
let pg: PostgresHandle;
let browser: Browser;
let r1: string;
let onR1: Worker;
let onR2: Worker;

beforeAll(async () => {
  pg = await startPostgres({ fsync: false });
  const database = await pg.createDatabase();
  const replica = (name: string) => ["--storage-type", "postgres", "--storage-postgres-url", database, "--replica-id", name, "--disconnect-grace", "500"];
  const [url1, url2] = await Promise.all([world.startServer(replica("r1")), world.startServer(replica("r2"))]);
  r1 = url1;
  [onR1, onR2] = await Promise.all([world.startWorker([], url1), world.startWorker([], url2)]);
  browser = await openBrowser(r1);
});

afterAll(async () => {
  await browser?.close();
  await world.close();
  await pg?.stop();
});

it("one replica's page shows both replicas' workers, and a task taken back on the other replica", async () => {
  const { page } = browser;
  await page.goto(`${r1}/ui/`);
  const group = page.getByTestId("group-workers");
  await expect.poll(() => group.getByTestId("worker").count(), { timeout: 15_000 }).toBe(2);
  const replicaOf = (w: Worker) => group.locator(`[data-pid="${w.pid}"] td`).nth(1).textContent();
  expect(await replicaOf(onR1)).toBe("r1");
  expect(await replicaOf(onR2)).toBe("r2");

  // One slow invocation each (least loaded first), then the worker on r2 dies.
  await world.invoke("far-a", 3000);
  await world.invoke("far-b", 3000);
  await until(async () => {
    const held = await Promise.all(["far-a", "far-b"].map(async (id) => (await world.admin(`tasks/${id}/history`)).task.pid));
    return held.includes(onR1.pid) && held.includes(onR2.pid);
  }, 15_000, () => "one task held by each worker");
  const lost = (await world.admin("tasks/far-a/history")).task.pid === onR2.pid ? "far-a" : "far-b";
  await onR2.proc.kill("SIGKILL");

  await expect.poll(() => group.getByTestId("worker").count(), { timeout: 15_000 }).toBe(1);
  await until(async () => (await world.promise(lost)).state === "resolved", 30_000, () => `${lost} finished by the worker on r1`);
  await page.goto(`${r1}/ui/tasks/${lost}`);
  await expect.poll(() => page.getByTestId("events").locator("li").allTextContents()).toEqual(
    expect.arrayContaining([
      expect.stringContaining(`acquired by ${onR2.pid.slice(0, 8)} on r2`),
      expect.stringContaining(`${onR2.pid.slice(0, 8)}'s stream closed`),
      expect.stringContaining(`acquired by ${onR1.pid.slice(0, 8)} on r1`),
      expect.stringContaining(`fulfilled by ${onR1.pid.slice(0, 8)}`),
    ]),
  );
  expect(browser.foreign).toEqual([]);
});
