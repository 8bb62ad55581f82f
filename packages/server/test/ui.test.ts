// /ui serves the dashboard's built files from one directory: files as they are (assets cached for
// good), any other path under /ui the page itself (the dashboard routes in the browser), nothing
// outside the directory, a content security policy that keeps the page on this origin, and a page
// saying how to build the dashboard when it has not been built.

import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { registerUi } from "../src/api/ui";

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

async function appServing(dist: string): Promise<FastifyInstance> {
  const app = Fastify();
  await registerUi(app, dist);
  apps.push(app);
  return app;
}

function builtDashboard(): string {
  const dist = mkdtempSync(join(tmpdir(), "ui-dist-"));
  mkdirSync(join(dist, "assets"));
  writeFileSync(join(dist, "index.html"), "<!doctype html><title>dashboard</title>");
  writeFileSync(join(dist, "assets", "main-abc123.js"), "console.log(1)");
  writeFileSync(join(dist, "..", "secret.txt"), "not for the web");
  return dist;
}

describe("/ui", () => {
  it("serves files, falls back to the page for routes, refuses what is outside", async () => {
    const app = await appServing(builtDashboard());

    expect((await app.inject("/ui")).headers.location).toBe("/ui/");
    for (const route of ["/ui/", "/ui/invocations/order-7", "/ui/tasks/a%2Fb/history"]) {
      const page = await app.inject(route);
      expect(page.statusCode, route).toBe(200);
      expect(page.body, route).toContain("<title>dashboard</title>");
      expect(page.headers["cache-control"], route).toContain("no-cache");
      expect(page.headers["content-security-policy"], route).toContain("default-src 'self'");
      expect(page.headers["content-security-policy"], route).toContain("connect-src 'self'");
    }

    const asset = await app.inject("/ui/assets/main-abc123.js");
    expect(asset.statusCode).toBe(200);
    expect(asset.headers["content-type"]).toContain("javascript");
    expect(asset.headers["cache-control"]).toContain("immutable");
    expect((await app.inject("/ui/assets/gone-0000.js")).statusCode).toBe(404);

    for (const sneaky of ["/ui/../secret.txt", "/ui/%2e%2e/secret.txt", "/ui/assets/..%2f..%2fsecret.txt"]) {
      const res = await app.inject(sneaky);
      expect(res.body, sneaky).not.toContain("not for the web");
    }
  });

  it("says how to build the dashboard when it has not been built", async () => {
    const app = await appServing(join(mkdtempSync(join(tmpdir(), "ui-none-")), "dist"));
    const res = await app.inject("/ui/");
    expect(res.statusCode).toBe(503);
    expect(res.headers["content-type"]).toContain("text/html");
    expect(res.body).toContain("pnpm --filter @resonate-compat/dashboard build");
  });
});
