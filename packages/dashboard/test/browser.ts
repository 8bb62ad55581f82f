import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type BrowserContext, type Page, chromium } from "playwright-core";
import { REPO_ROOT } from "./world";

// Debian's headless Chromium, driven by playwright-core, with a fresh profile each time and the
// network limited to the server's origin: any other request is aborted and recorded, and the tests
// assert that none was made (the dashboard must work without internet access). A request the
// page's content security policy stops never reaches the network: the browser's report of it is
// recorded as well.

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/**
 * Where screenshots go: the README's pictures in docs/ when UPDATE_SCREENSHOTS=1, else the ignored
 * .test-output/ (so that running the tests leaves the working tree as it was).
 */
export const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === "1" ? path.join(REPO_ROOT, "docs") : path.join(REPO_ROOT, ".test-output", "dashboard");

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Requests to anywhere but the server, aborted. */
  foreign: string[];
  /** Console errors and uncaught exceptions of the page. */
  errors: string[];
  close(): Promise<void>;
}

export async function openBrowser(origin: string, viewport = { width: 1280, height: 860 }): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium package (scripts/setup.sh does as root) or set CHROMIUM_PATH`);
  }
  const profile = mkdtempSync(path.join(tmpdir(), "dashboard-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    viewport,
    // Fixed, so that screenshots and times read the same on every machine.
    timezoneId: "UTC",
    locale: "en-GB",
    colorScheme: "light",
  });
  const foreign: string[] = [];
  const errors: string[] = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(`${origin}/`) || url.startsWith("data:")) return route.continue();
    foreign.push(url);
    return route.abort("blockedbyclient");
  });
  const page = context.pages()[0] ?? (await context.newPage());
  context.on("console", (message) => {
    if (message.type() !== "error") return;
    if (/Content Security Policy/i.test(message.text())) foreign.push(`refused by the CSP: ${message.text()}`);
    else errors.push(message.text());
  });
  context.on("weberror", (error) => errors.push(String(error.error())));
  page.setDefaultTimeout(15_000);
  return {
    context,
    page,
    foreign,
    errors,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Writes dashboard-<name>.png to SCREENSHOTS (docs/: shown in the README). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `dashboard-${name}.png`), fullPage: true });
}
