// Child process for stop.test.ts: uses the SDK, calls stop(), prints "stopped", and should then
// exit on its own because nothing is left running.
import { Resonate } from "../../src/index";

const url = process.argv[2]!;
const resonate = new Resonate({ url, logLevel: "silent", retry: { attempts: 2, initialDelay: 50, maxDelay: 50 }, reconnect: { initial: 50, max: 50 } });
resonate.register("f", () => new Promise(() => {}));
await resonate.beginRpc("job", "f").then((h) => void h.result().catch(() => {}), () => {});
await new Promise((r) => setTimeout(r, 300)); // let some reconnects and retries happen
await resonate.stop();
console.log("stopped");
