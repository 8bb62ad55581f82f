import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";

/**
 * The path of an executable found on PATH or in the extra folders (in that order), or undefined.
 * The sbin folders are searched too because Debian installs haproxy and nginx there, and they are
 * not on a regular user's PATH.
 */
export function findExecutable(
  name: string,
  extraFolders: readonly string[] = ["/usr/local/sbin", "/usr/sbin", "/sbin"],
): string | undefined {
  const folders = [...(process.env.PATH ?? "").split(delimiter).filter(Boolean), ...extraFolders];
  for (const folder of folders) {
    const candidate = join(folder, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
