// pnpm build: the server as JavaScript, dist/main.js, which `pnpm start` runs with plain Node.
//
// Why a build when tsx runs the sources: a process started through tsx compiles every module of ours
// on load and keeps the source maps, and the young generation it leaves behind costs 9–21 ms
// scavenges in the first seconds of the process (docs/performance.md, "What the cold tail is made
// of"). A server in production starts from JavaScript; so does the bench, to measure that server.
//
// One ES module per entry holds our own code (the workspace's @resonate-compat/* packages, which
// ship TypeScript). Every other package stays outside the bundle and Node loads it from
// node_modules as it is: better-sqlite3 is native, pino starts its transports in worker threads by
// package name, and neither survives being inlined. So the output must live inside the package
// whose node_modules has those dependencies — dist/ here, next to this package's node_modules.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const SERVER_ROOT = fileURLToPath(new URL("..", import.meta.url));
export const SERVER_ENTRY = path.join(SERVER_ROOT, "src", "main.ts");
export const SERVER_BUNDLE = path.join(SERVER_ROOT, "dist", "main.js");

const PACKAGES_DIR = path.resolve(SERVER_ROOT, "..");
const WORKSPACE_SCOPE = "@resonate-compat/";

/**
 * What stays an import: every package a workspace package depends on, except our own (esbuild's
 * synchronous API takes no resolve plugin, so the rule is a list, made from the package.json files).
 */
function externalDependencies(): string[] {
  const names = new Set<string>();
  for (const dir of fs.readdirSync(PACKAGES_DIR)) {
    const manifest = path.join(PACKAGES_DIR, dir, "package.json");
    if (!fs.existsSync(manifest)) continue;
    const pkg = JSON.parse(fs.readFileSync(manifest, "utf8")) as Record<string, Record<string, string> | undefined>;
    for (const name of Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })) {
      if (!name.startsWith(WORKSPACE_SCOPE)) names.add(name);
    }
  }
  return [...names].flatMap((name) => [name, `${name}/*`]);
}

/**
 * Bundles one TypeScript entry and the workspace code it imports into `outfile`, an ES module for
 * the Node this runs on. Its external imports resolve from `outfile`'s folder upwards, so put it in
 * a package that depends on them. Writes a source map beside it (Node reads it with
 * --enable-source-maps). Each file is written aside and renamed into place, so that a process
 * starting from `outfile` while another build runs (parallel test files) reads a whole bundle.
 */
export function bundle(entry: string, outfile: string): void {
  const result = esbuild.buildSync({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: `node${process.versions.node.split(".")[0]}`,
    sourcemap: "linked",
    // Stack traces and logs name our functions and classes as the sources do.
    keepNames: true,
    external: externalDependencies(),
    logLevel: "warning",
    write: false,
  });
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  for (const file of result.outputFiles) {
    const aside = `${file.path}.${process.pid}.tmp`;
    fs.writeFileSync(aside, file.contents);
    fs.renameSync(aside, file.path);
  }
}

export function buildServer(): string {
  bundle(SERVER_ENTRY, SERVER_BUNDLE);
  return SERVER_BUNDLE;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  buildServer();
  const kb = Math.round(fs.statSync(SERVER_BUNDLE).size / 1024);
  console.log(`built ${path.relative(process.cwd(), SERVER_BUNDLE)} (${kb} KB) in ${Math.round(performance.now() - started)} ms; run it with: pnpm start`);
}
