import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { NGINX_TEMPLATE, renderNginxSite, startNginx } from "../src/index";
import { findExecutable } from "../src/find-executable";
import { startBackend } from "./helpers/backend";
import { isAlive } from "./helpers/processes";
import { proxyContract } from "./helpers/proxy-contract";

describe("startNginx: nginx from deploy/nginx/resonate.conf", () => {
  // nginx has no health checks to wait for: a replica is in until a connection to it fails.
  proxyContract(
    (backends) => startNginx({ backends }),
    async () => {},
  );

  it("keeps every line of the shipped configuration but the listen and upstream server lines", () => {
    const template = readFileSync(NGINX_TEMPLATE, "utf8");
    const rendered = renderNginxSite(template, { host: "127.0.0.1", port: 4000 }, [
      { host: "127.0.0.1", port: 4001 },
      { host: "::1", port: 4002 },
    ]);
    expect(rendered).toMatch(/^\s+listen 127\.0\.0\.1:4000;$/m);
    expect(rendered.match(/^\s+server \S+ max_fails.*;$/gm)).toEqual([
      "    server 127.0.0.1:4001 max_fails=1 fail_timeout=2s;",
      "    server [::1]:4002 max_fails=1 fail_timeout=2s;",
    ]);
    const unchanged = (text: string) => text.split("\n").filter((line) => !/^\s*(listen|server\s+[^{]*;)/.test(line));
    expect(unchanged(rendered)).toEqual(unchanged(template));
  });

  it("stop() ends nginx and removes its folder", async () => {
    const backend = await startBackend("lonely");
    onTestFinished(() => backend.stop());
    const started = await startNginx({ backends: [backend.url] });
    expect(isAlive(started.pid)).toBe(true);
    // The configuration nginx runs with passes its own check.
    execFileSync(findExecutable("nginx")!, ["-t", "-q", "-p", dirname(started.configFile), "-c", started.configFile, "-e", "stderr"]);
    await started.stop();
    expect(isAlive(started.pid)).toBe(false);
    expect(existsSync(dirname(started.configFile))).toBe(false);
  });
});
