import { test } from "vitest";
import { startTestServer, openSse, sleep } from "./helpers";
test("smoke", async () => {
  const ts = await startTestServer({ keepaliveInterval: 2000 });
  const t0 = Date.now();
  const p = openSse(ts.url, "workers", "w1");
  await sleep(100);
  console.log("registry after 100ms", ts.server.registry.size);
  const s = await p;
  console.log("open took", Date.now() - t0, s.status, s.raw.length);
  await sleep(2100);
  console.log(JSON.stringify(s.raw), s.comments);
  await ts.close();
});
