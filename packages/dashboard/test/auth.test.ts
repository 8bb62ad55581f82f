// With authentication on, the dashboard shows nothing but a token prompt until it has an admin
// token: no navigation, no data; a token without role admin is refused with a reason; an admin
// token opens the overview and is used for the protocol too (a promise's page loads).

import { afterAll, beforeAll, expect, it } from "vitest";
import { type Browser, openBrowser } from "./browser";
import { World } from "./world";

const world = new World();
let browser: Browser;

beforeAll(async () => {
  // "none": unsigned tokens are accepted (their claims still decide), enough to test the door.
  await world.startServer(["--auth-publickey", "none"]);
  browser = await openBrowser(world.url);
});

afterAll(async () => {
  await browser?.close();
  await world.close();
});

function token(claims: Record<string, unknown>): string {
  const part = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT" })}.${part({ exp: Math.floor(Date.now() / 1000) + 600, ...claims })}.`;
}

it("asks for a token and shows nothing else until an admin token is given", async () => {
  const { page } = browser;
  const admin = token({ role: "admin" });
  // Something to see once in, created with the admin token.
  const created = await fetch(`${world.url}/`, {
    method: "POST",
    body: JSON.stringify({ kind: "promise.create", head: { corrId: "a", version: "2026-04-01", auth: admin }, data: { id: "secret-1", timeoutAt: Date.now() + 60_000 } }),
  });
  expect(((await created.json()) as any).head.status).toBe(200);

  await page.goto(`${world.url}/ui/invocations/secret-1`);
  const prompt = page.getByRole("heading", { name: "Admin token needed" });
  await prompt.waitFor();
  expect(await page.getByRole("navigation").count()).toBe(0);
  expect(await page.getByText("secret-1").count()).toBe(0);
  expect(await page.getByRole("alert").textContent()).toContain("requires an admin token");

  await page.getByLabel(/Token/).fill(token({ prefix: "" }));
  await page.getByLabel(/Token/).press("Enter");
  await expect.poll(() => page.getByRole("alert").textContent()).toContain("not an admin token");
  expect(await page.getByRole("navigation").count()).toBe(0);

  await page.getByLabel(/Token/).fill(admin);
  await page.getByLabel(/Token/).press("Enter");
  await expect.poll(() => page.getByTestId("promise-state").textContent()).toBe("pending");
  await page.getByRole("link", { name: "Overview" }).click();
  await expect.poll(() => page.getByTestId("stream-status").textContent()).toContain("live");

  // Forgetting the token brings the prompt back at the next request.
  await page.getByRole("button", { name: "Forget token" }).click();
  await page.reload();
  await prompt.waitFor();
  expect(browser.foreign).toEqual([]);
});
