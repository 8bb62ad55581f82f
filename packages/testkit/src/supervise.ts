import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import type { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { findExecutable } from "./find-executable";
import { OutputTail } from "./output-tail";

const SCRIPT = fileURLToPath(new URL("./supervise.sh", import.meta.url));

export interface SuperviseOptions {
  command: string;
  args: readonly string[];
  /** The signal that ends the service quickly (PostgreSQL: SIGQUIT, an immediate shutdown). */
  stopSignal: NodeJS.Signals;
  /** Seconds between stopSignal and SIGKILL. */
  graceSeconds?: number;
  /** A folder removed once the service has exited: the temp folder it ran in. */
  removeFolder?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Run the service under these ids (PostgreSQL refuses to run as root). Needs setpriv. */
  runAs?: { uid: number; gid: number };
  /** How many of the service's last output lines to keep for error messages. */
  keepLines?: number;
}

export interface Supervised {
  /** The service's pid. */
  readonly pid: number;
  /** The pid of the supervising shell (supervise.sh). */
  readonly supervisorPid: number;
  /** Resolves with the service's exit status once it has ended, by itself or stopped. */
  readonly exited: Promise<number>;
  readonly hasExited: boolean;
  /** The service's last lines of output (stdout and stderr). */
  output(): string;
  /** Calls listener with each line of output from now on; returns the unsubscribe. */
  onLine(listener: (line: string) => void): () => void;
  /** Stops holding the Node process open: the service then ends when the process does. */
  unref(): void;
  /** Stops the service and waits until it has exited and its folder is gone. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts a service under supervise.sh, which ties its life to this process: the service ends when
 * stop() is called, and also when this process exits or is killed in any way, because the
 * supervisor then sees its stdin close. See supervise.sh for the details.
 */
export async function supervise(options: SuperviseOptions): Promise<Supervised> {
  const grace = options.graceSeconds ?? 10;
  const setpriv = findExecutable("setpriv");
  if (!setpriv) throw new Error("setpriv not found: install util-linux (the testkit runs on Linux only)");
  // If supervise.sh itself is SIGKILLed, the kernel sends the service its stop signal
  // (PR_SET_PDEATHSIG; it survives setpriv's change of user).
  const command = [
    setpriv,
    `--pdeathsig=${options.stopSignal.replace(/^SIG/, "")}`,
    ...(options.runAs ? [`--reuid=${options.runAs.uid}`, `--regid=${options.runAs.gid}`, "--clear-groups"] : []),
    "--",
    options.command,
  ];
  const child = spawn(
    "bash",
    [SCRIPT, options.stopSignal, String(grace), options.removeFolder ?? "-", ...command, ...options.args],
    {
      cwd: options.cwd,
      env: options.env ?? process.env,
      // Its own session and process group: a Ctrl-C for the test run reaches the test process
      // only; the service is then stopped through the closed pipe, after that process is gone.
      detached: true,
      stdio: ["pipe", "pipe", "pipe", "pipe"],
    },
  );

  // Writing to the stdin of a supervisor that is gone must not crash the test process.
  child.stdin!.on("error", () => {});
  const tail = new OutputTail(options.keepLines ?? 200);
  child.stdout!.on("data", (chunk: Buffer) => tail.push(chunk));
  child.stderr!.on("data", (chunk: Buffer) => tail.push(chunk));

  let exitStatus: number | undefined;
  let resolveExited!: (status: number) => void;
  const exited = new Promise<number>((resolve) => {
    resolveExited = resolve;
  });
  const control = child.stdio[3] as Socket;
  const pid = await new Promise<number>((resolve, reject) => {
    let buffered = "";
    control.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const [word, value] = buffered.slice(0, newline).split(" ");
        buffered = buffered.slice(newline + 1);
        if (word === "pid") resolve(Number(value));
        if (word === "exit") {
          exitStatus = Number(value);
          resolveExited(exitStatus);
        }
      }
    });
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      reject(new Error(`supervise.sh ended before starting ${options.command} (${signal ?? code})\n${tail.text()}`));
    });
    // Once every pipe is closed any "exit" line has been read; without one the supervisor was
    // killed (its service then got the parent-death signal).
    child.once("close", () => {
      exitStatus ??= -1;
      resolveExited(exitStatus);
    });
  });

  let stopping: Promise<void> | undefined;
  const handles = (): Array<ChildProcess | Socket> => [child, child.stdin as Socket, child.stdout as Socket, child.stderr as Socket, control];

  return {
    pid,
    supervisorPid: child.pid!,
    exited,
    get hasExited() {
      return exitStatus !== undefined;
    },
    output: () => tail.text(),
    onLine: (listener) => tail.subscribe(listener),
    unref() {
      for (const handle of handles()) handle.unref();
    },
    stop() {
      stopping ??= (async () => {
        for (const handle of handles()) handle.ref();
        const supervisorGone = new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) resolve();
          else child.once("exit", () => resolve());
        });
        child.stdin!.end();
        // The supervisor exits only after the service and the folder are gone; if it hangs anyway,
        // killing it sends the service its parent-death signal, and the clean-up happens here.
        const hung = setTimeout(() => child.kill("SIGKILL"), (grace + 5) * 1000);
        await supervisorGone;
        clearTimeout(hung);
        // Left behind only when the supervisor was killed before its clean-up.
        if (options.removeFolder && existsSync(options.removeFolder)) {
          await rm(options.removeFolder, { recursive: true, force: true });
        }
      })();
      return stopping;
    },
  };
}
