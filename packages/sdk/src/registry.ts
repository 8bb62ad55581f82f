import type { Context } from "./context";

// Functions this process can execute, by name and version. Versions exist so that a worker can run
// v1 and v2 of a function side by side; the param of a promise names the version it wants
// (0 or absent means "the latest one registered").

// Any argument list: the wire carries JSON, so the function itself checks what it receives.
export type RegisteredFunction = (ctx: Context, ...args: any[]) => unknown;

export interface Registered {
  name: string;
  version: number;
  fn: RegisteredFunction;
}

export class Registry {
  private readonly byName = new Map<string, Map<number, Registered>>();

  add(name: string, fn: RegisteredFunction, version = 1): void {
    if (name === "") throw new Error("A registered function needs a non-empty name");
    if (!Number.isInteger(version) || version < 1) throw new Error(`Function version must be a positive integer (got ${version})`);
    const versions = this.byName.get(name) ?? new Map<number, Registered>();
    if (versions.has(version)) throw new Error(`Function "${name}" (version ${version}) is already registered`);
    versions.set(version, { name, version, fn });
    this.byName.set(name, versions);
  }

  /** The function registered under `name` at `version`, or the latest version when `version` is 0. */
  get(name: string, version = 0): Registered | undefined {
    const versions = this.byName.get(name);
    if (!versions) return undefined;
    if (version > 0) return versions.get(version);
    return versions.get(Math.max(...versions.keys()));
  }
}
