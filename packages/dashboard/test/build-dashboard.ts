import { fileURLToPath } from "node:url";
import { build } from "vite";

// Vitest global setup: the tests look at the dashboard the server serves from dist/, so build it
// from the current sources first (about a second) rather than test a stale build.
export default async function buildDashboard(): Promise<void> {
  await build({ root: fileURLToPath(new URL("..", import.meta.url)), logLevel: "warn" });
}
