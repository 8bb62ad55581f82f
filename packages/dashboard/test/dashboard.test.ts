// The dashboard in a real browser (headless Chromium) against a real server process with two real
// workers on SQLite: the overview shows the workers and their load, live; an invocation's detail and
// call tree are right; a worker SIGKILLed mid-task shows in its task's history as taken back and
// finished elsewhere; resolving a pending promise from the page settles it on the server; schedules
// are created and deleted; a missing id is said to be missing; the page makes no request anywhere
// but the server and reads on a phone. Screenshots: docs/dashboard-*.png with UPDATE_SCREENSHOTS=1.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, openBrowser, screenshot } from "./browser";
import { type Worker, World, until } from "./world";

const world = new World();
let browser: Browser;
let workers: Worker[];
/** Which worker holds the task that the kill test takes away, and the other one. */
let victim: Worker;
let survivor: Worker;

beforeAll(async () => {
  // A short grace, so a killed worker's tasks come back quickly.
  await world.startServer(["--disconnect-grace", "500"]);
  workers = await Promise.all([world.startWorker(), world.startWorker()]);
  // A failure for the overview to list (an operator rejected a refund).
  await world.call("promise.create", { id: "refund-9", timeoutAt: Date.now() + 3_600_000 });
  await world.call("promise.settle", { id: "refund-9", state: "rejected", value: {} });
  browser = await openBrowser(world.url);
});

afterAll(async () => {
  await browser?.close();
  await world.close();
});

const ui = (path: string) => `${world.url}/ui${path}`;

describe("dashboard", () => {
  it("overview: both workers appear, live, with the task each holds", async () => {
    const { page } = browser;
    await page.goto(ui("/"));
    await expect.poll(() => page.getByTestId("stream-status").textContent()).toContain("live");
    const group = page.getByTestId("group-workers");
    await expect.poll(() => group.getByTestId("worker").count()).toBe(2);
    for (const w of workers) expect(await group.locator(`[data-pid="${w.pid}"] [data-testid=tasks]`).textContent()).toBe("0");

    // Two slow invocations: the least loaded worker gets each, so one each. The page is not
    // reloaded: what it shows next comes from the server's pushes.
    // (Long enough that a push, every 2 s, comes while they run, even on a busy machine.)
    await world.invoke("slow-a", 4000);
    await world.invoke("slow-b", 4000);
    for (const w of workers) {
      await expect.poll(() => group.locator(`[data-pid="${w.pid}"] [data-testid=tasks]`).textContent(), { timeout: 15_000 }).toBe("1");
    }
    expect(await group.getByTestId("acquired").textContent()).toBe("2");
    expect(await page.getByTestId("failures").locator("tbody tr").allTextContents()).toEqual([expect.stringMatching(/^refund-9rejected/)]);
  });

  it("a worker SIGKILLed mid-task: it leaves the overview; its task is taken back and finished by the other", async () => {
    const { page } = browser;
    await world.invoke("crash-c", 3000);
    let holder: string | undefined;
    await until(async () => (holder = (await world.admin(`tasks/crash-c/history`)).task?.pid) !== undefined, 15_000, () => "crash-c to be acquired");
    victim = workers.find((w) => w.pid === holder)!;
    survivor = workers.find((w) => w.pid !== holder)!;
    expect(victim, `crash-c is held by ${holder}, none of our workers`).toBeDefined();
    await victim.proc.kill("SIGKILL");

    const group = page.getByTestId("group-workers");
    await expect.poll(() => group.getByTestId("worker").count(), { timeout: 15_000 }).toBe(1);
    expect(await group.getByTestId("worker").getAttribute("data-pid")).toBe(survivor.pid);

    // The history page, opened while the survivor still runs it, follows it to the end by itself.
    await page.goto(ui("/tasks/crash-c"));
    const events = page.getByTestId("events");
    const short = (w: Worker) => w.pid.slice(0, 8);
    await expect
      .poll(() => events.locator("li").allTextContents(), { timeout: 30_000 })
      .toEqual(expect.arrayContaining([expect.stringContaining("stream closed"), expect.stringContaining(`fulfilled by ${short(survivor)}`)]));
    expect((await world.promise("crash-c")).state).toBe("resolved");
    const lines = await events.locator("li").allTextContents();
    const taken = lines.findIndex((l) => l.includes(`${short(victim)}'s stream closed`) && l.includes("taken back"));
    const reoffered = lines.findIndex((l, i) => i > taken && l.includes(`offered to ${short(survivor)}`));
    const finished = lines.findIndex((l) => l.includes(`fulfilled by ${short(survivor)}`));
    expect(lines.findIndex((l) => l.includes(`acquired by ${short(victim)}`)), lines.join("\n")).toBeGreaterThanOrEqual(0);
    expect(taken, lines.join("\n")).toBeGreaterThan(0);
    expect(reoffered, lines.join("\n")).toBeGreaterThan(taken);
    expect(finished, lines.join("\n")).toBeGreaterThan(reoffered);
    expect(await page.getByTestId("task-state").textContent()).toContain("fulfilled");
    // On the time axis: a row per worker, the victim's lease drawn as lost.
    const timeline = page.getByTestId("task-timeline");
    expect(await timeline.locator(".timeline-row").count()).toBe(3);
    expect(await timeline.locator(".timeline-bar.lease.lost").count()).toBe(1);
    await screenshot(page, "task-history");
  });

  it("an invocation's detail: param and value decoded, tags, the call tree with states, its timeline", async () => {
    const { page } = browser;
    // A call tree as the SDKs tag it: root → child 1 (resolved, with its own child) and child 2 (pending).
    const t = Date.now() + 3_600_000;
    const json = (v: unknown) => ({ data: Buffer.from(JSON.stringify(v)).toString("base64") });
    const member = (id: string, parent: string) => ({ "resonate:origin": "order-7", "resonate:parent": parent, "resonate:branch": parent });
    await world.call("promise.create", { id: "order-7", timeoutAt: t, param: json({ func: "placeOrder", args: [{ sku: "A-1", qty: 2 }], version: 1 }), tags: { ...member("order-7", "order-7"), customer: "42" } });
    await world.call("promise.create", { id: "order-7.1", timeoutAt: t, tags: member("order-7.1", "order-7") });
    await world.call("promise.create", { id: "order-7.1.1", timeoutAt: t, tags: member("order-7.1.1", "order-7.1") });
    await world.call("promise.settle", { id: "order-7.1.1", state: "resolved", value: json({ reserved: true }) });
    await world.call("promise.settle", { id: "order-7.1", state: "resolved", value: json({ charged: 19.5 }) });
    await world.call("promise.create", { id: "order-7.2", timeoutAt: t, tags: member("order-7.2", "order-7") });

    // Found through the search form (Enter submits it).
    await page.goto(ui("/invocations"));
    await page.getByLabel("Id starts with").fill("order-7");
    await page.getByLabel("Id starts with").press("Enter");
    await expect.poll(() => page.getByTestId("results").locator("tbody tr").count()).toBe(4);
    // By tags, keys with a colon included: the invocations sent to the group (not order-7's tree).
    await page.getByLabel("Id starts with").fill("");
    await page.getByLabel(/^Tags/).fill("resonate:target=poll://any@workers");
    await page.getByLabel(/^Tags/).press("Enter");
    await expect.poll(() => page.getByTestId("results").locator("tbody tr td:first-child").allTextContents()).toEqual(["crash-c", "slow-a", "slow-b"]);
    await page.getByLabel(/^Tags/).fill("customer=42");
    await page.getByLabel(/^Tags/).press("Enter");
    await expect.poll(() => page.getByTestId("results").locator("tbody tr td:first-child").allTextContents()).toEqual(["order-7"]);
    await page.getByTestId("results").getByRole("link", { name: "order-7", exact: true }).click();
    await page.waitForURL(/\/ui\/invocations\/order-7$/);

    expect(JSON.parse((await page.getByTestId("param").textContent())!)).toEqual({ func: "placeOrder", args: [{ sku: "A-1", qty: 2 }], version: 1 });
    expect(await page.getByTestId("promise-state").textContent()).toBe("pending");
    expect(await page.getByTestId("tags").locator("tr", { hasText: "customer" }).locator("td").textContent()).toBe("42");
    const tree = page.getByTestId("call-tree");
    const node = (id: string) => tree.locator(`li[data-id="${id}"]`);
    await expect.poll(() => tree.locator("li").count()).toBe(4);
    expect(await node("order-7").getAttribute("data-state")).toBe("pending");
    expect(await node("order-7.1").getAttribute("data-state")).toBe("resolved");
    expect(await node("order-7.2").getAttribute("data-state")).toBe("pending");
    // Nesting: the grandchild sits under child 1, not under the root.
    expect(await node("order-7.1").locator(`li[data-id="order-7.1.1"]`).count()).toBe(1);
    expect(await node("order-7.2").locator("li").count()).toBe(0);
    expect(await page.getByTestId("tree-timeline").locator(".timeline-row").count()).toBe(4);
    await screenshot(page, "invocation");

    // A child's page shows its value decoded, and the same tree.
    await node("order-7.1").getByRole("link", { name: "order-7.1", exact: true }).first().click();
    await page.waitForURL(/order-7\.1$/);
    await expect.poll(() => page.getByTestId("value").textContent()).toContain('"charged": 19.5');

    // A real invocation, run by a worker: its result decoded.
    await world.invoke("quick-1", 50);
    await until(async () => (await world.promise("quick-1")).state === "resolved", 20_000, () => "quick-1 to finish");
    await page.goto(ui("/invocations/quick-1"));
    expect(JSON.parse((await page.getByTestId("value").textContent())!)).toEqual({ id: "quick-1", cost: 50, worker: survivor.pid });
  });

  it("resolving a pending promise from the page, after confirming, settles it on the server", async () => {
    const { page } = browser;
    await world.call("promise.create", { id: "approval-3", timeoutAt: Date.now() + 3_600_000 });
    await page.goto(ui("/invocations/approval-3"));
    // By keyboard: the button opens the dialog, Cancel leaves everything as it was.
    await page.getByRole("button", { name: "Resolve…" }).press("Enter");
    await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).press("Enter");
    await expect.poll(() => page.getByRole("dialog").count()).toBe(0);
    expect((await world.promise("approval-3")).state).toBe("pending");

    await page.getByRole("button", { name: "Resolve…" }).press("Enter");
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Value (JSON, optional)").fill('{"approvedBy": "ops"}');
    await dialog.getByRole("button", { name: "Resolve", exact: true }).press("Enter");
    await expect.poll(() => page.getByTestId("promise-state").textContent()).toBe("resolved");
    const settled = await world.promise("approval-3");
    expect(settled.state).toBe("resolved");
    expect(JSON.parse(Buffer.from(settled.value.data!, "base64").toString())).toEqual({ approvedBy: "ops" });
    expect(await page.getByRole("button", { name: "Resolve…" }).count()).toBe(0);
  });

  it("schedules: created from the form, listed, shown, deleted after confirming", async () => {
    const { page } = browser;
    await page.goto(ui("/schedules"));
    await page.getByLabel("Id", { exact: true }).fill("nightly-report");
    await page.getByLabel("Cron (UTC)").fill("0 2 * * *");
    await page.getByLabel("Function").fill("computeSomething");
    await page.getByLabel("Arguments (JSON)").fill('["nightly", 100]');
    await page.getByLabel("Arguments (JSON)").press("Enter");
    await page.waitForURL(/\/ui\/schedules\/nightly-report$/);
    const created = (await world.call("schedule.get", { id: "nightly-report" })).schedule;
    expect(created).toMatchObject({ cron: "0 2 * * *", promiseTags: { "resonate:target": "poll://any@workers" } });
    expect(await page.getByTestId("schedule-facts").textContent()).toContain("0 2 * * *");

    await world.call("schedule.create", { id: "hourly-sync", cron: "0 * * * *", promiseId: "{{.id}}.{{.timestamp}}", promiseTimeout: 60_000, promiseTags: { "resonate:target": "poll://any@workers" } });
    await page.getByRole("link", { name: "Schedules" }).first().click();
    await expect.poll(() => page.getByTestId("schedules").locator("tbody tr").count()).toBe(2);
    await screenshot(page, "schedules");

    await page.getByRole("link", { name: "nightly-report" }).click();
    await page.getByRole("button", { name: "Delete…" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete", exact: true }).click();
    await page.waitForURL(/\/ui\/schedules$/);
    await expect.poll(() => page.getByTestId("schedules").locator("tbody tr").count()).toBe(1);
    await expect(world.call("schedule.get", { id: "nightly-report" })).rejects.toThrow(/404/);
  });

  it("a page asked for a missing id says so", async () => {
    const { page } = browser;
    const cases: [string, string][] = [
      ["/invocations/no-such-order", 'No promise with the id "no-such-order".'],
      ["/tasks/no-such-task", 'No task with the id "no-such-task"'],
      ["/schedules/no-such-schedule", 'No schedule with the id "no-such-schedule".'],
      ["/no/such/page", "The dashboard has no page at /ui/no/such/page."],
    ];
    for (const [path, text] of cases) {
      await page.goto(ui(path));
      await expect.poll(() => page.getByTestId("not-found").textContent(), { message: path }).toContain(text);
    }
  });

  it("reads on a phone: nothing wider than the screen (and the overview after the work above)", async () => {
    const phone = await browser.context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    for (const [path, drawn] of [["/", "group-workers"], ["/invocations/order-7", "tree-timeline"], ["/tasks/crash-c", "task-timeline"]] as const) {
      await phone.goto(ui(path));
      await phone.getByTestId(drawn).waitFor();
      const overflow = await phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth");
      expect(overflow, path).toBeLessThanOrEqual(0);
    }
    await phone.goto(ui("/"));
    await expect.poll(() => phone.getByTestId("worker").count()).toBe(1);
    await screenshot(phone, "phone");
    await phone.close();

    // The desktop overview's picture, now that work was done (and a task taken back).
    await browser.page.goto(ui("/"));
    await expect.poll(() => browser.page.getByTestId("total-finished").textContent()).toMatch(/^[1-9]\d* finished/);
    await screenshot(browser.page, "overview");
  });

  it("made no request anywhere but the server, and raised no error on the page", async () => {
    // The guard itself: a request elsewhere is caught (and then forgotten, it was ours).
    const before = browser.foreign.length;
    const probe = await browser.context.newPage();
    await probe.goto(ui("/schedules"));
    await probe.evaluate("fetch('http://example.invalid/font.woff2').catch(() => undefined)");
    await expect.poll(() => browser.foreign.length).toBeGreaterThan(before);
    browser.foreign.splice(before);
    await probe.close();

    expect(browser.foreign).toEqual([]);
    // A 404 answer for a missing id is logged by the browser as a failed resource load: expected.
    expect(browser.errors.filter((e) => !/Failed to load resource: .* 404/.test(e))).toEqual([]);
  });
});
