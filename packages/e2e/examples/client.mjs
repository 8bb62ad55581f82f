// The load-balancing pattern's client, written with the official Resonate SDK (@resonatehq/sdk).
// Fires one invocation at any worker of the group and, with --wait, prints its result.
//   pnpm official:client [--wait]
import { randomUUID } from "node:crypto";
import { Resonate } from "@resonatehq/sdk";

const resonate = new Resonate({ url: process.env.RESONATE_URL ?? "http://127.0.0.1:8001", group: "client" });

const id = `job-${randomUUID().slice(0, 8)}`;
const cost = 1000 + Math.floor(Math.random() * 4000);
const handle = await resonate.beginRpc(id, "computeSomething", id, cost, resonate.options({ target: "poll://any@workers" }));
console.log(`dispatched ${id} (cost ${cost} ms)`);

if (process.argv.includes("--wait")) console.log(`result: ${await handle.result()}`);
resonate.stop();
