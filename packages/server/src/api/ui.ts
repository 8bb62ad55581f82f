import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";

// The web dashboard at /ui: the files `vite build` wrote to packages/dashboard/dist, served from
// this port and origin. Paths that are not files get index.html (the dashboard routes in the
// browser: /ui/invocations/<id> is a page, not a file). Without a build, /ui says how to make one.

export const DASHBOARD_DIST = path.join(packageRoot(fileURLToPath(import.meta.url)), "..", "dashboard", "dist");

/**
 * The folder of the package.json above `file`. Found by walking up rather than by a fixed number of
 * "..": this module runs from src/api/ under tsx and from dist/main.js once built.
 */
function packageRoot(file: string): string {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${file}`);
  }
}

/**
 * Everything the page loads comes from this origin; the header makes the browser refuse anything
 * else, so a stray CDN link would fail loudly instead of phoning out from an operator's network.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' data:",
  "style-src 'self'",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join("; ");

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Dashboard not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>The dashboard has not been built</h1>
<p>This server serves the web dashboard from <code>packages/dashboard/dist</code>, which does not exist yet.
Build it once from the repository's root (<code>bash scripts/setup.sh</code> does it too):</p>
<pre>pnpm --filter @resonate-compat/dashboard build</pre>
<p>then reload this page; the server need not restart.</p>
</body></html>`;

export async function registerUi(app: FastifyInstance, dist: string = DASHBOARD_DIST): Promise<void> {
  await app.register(async (ui) => {
    await ui.register(fastifyStatic, { root: dist, serve: false });

    ui.addHook("onSend", async (_request, reply) => {
      reply.header("content-security-policy", CONTENT_SECURITY_POLICY);
      reply.header("x-content-type-options", "nosniff");
      reply.header("referrer-policy", "no-referrer");
    });

    ui.get("/ui", async (_request, reply) => reply.redirect("/ui/"));

    ui.get<{ Params: { "*": string } }>("/ui/*", async (request, reply) => {
      if (!existsSync(path.join(dist, "index.html"))) return reply.code(503).type("text/html; charset=utf-8").send(NOT_BUILT);
      const file = request.params["*"];
      if (file !== "" && isFileWithin(dist, file)) {
        // Vite names built assets by their content: they never change under one name.
        const immutable = file.startsWith("assets/");
        return reply.sendFile(file, { maxAge: immutable ? 31_536_000_000 : 0, immutable });
      }
      if (file.startsWith("assets/")) return reply.code(404).type("text/plain").send(`no such file: /ui/${file}`);
      reply.header("cache-control", "no-cache");
      return reply.sendFile("index.html", { cacheControl: false });
    });
  });
}

/** Whether `file` names a regular file inside `root` (never outside it, whatever dots it has). */
function isFileWithin(root: string, file: string): boolean {
  const full = path.resolve(root, file);
  if (!full.startsWith(root + path.sep)) return false;
  try {
    return statSync(full).isFile();
  } catch {
    return false;
  }
}
