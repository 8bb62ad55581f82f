import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

// WAL checkpoints on a worker thread, through a second connection to the same file.
//
// A checkpoint copies the WAL's pages back into the database file and fsyncs it. better-sqlite3 is
// synchronous, so when the server's own connection checkpoints (SQLite's default: inside whichever
// COMMIT crosses 1,000 WAL pages) the event loop stops for 10–50 ms on a virtual disk — several
// times a second under load, which was most of the dispatch latency tail. A PASSIVE checkpoint on
// another connection runs beside the writer without blocking it, so the stall leaves the request
// path entirely. The server's connection keeps a far larger automatic threshold: under steady load
// its checkpoint, rare, is the one that lets the WAL restart (see open.ts).

/**
 * How often the thread checkpoints; with nothing new in the WAL a checkpoint is a no-op. Often
 * enough that the connection's own (rare) checkpoint finds little left to copy while it holds the
 * event loop: at 200 ms it found up to ~700 pages at 200 invocations/s, ~5 ms of copying.
 */
const INTERVAL_MS = 50;

// CommonJS run by the worker (eval): no TypeScript loader is needed inside the thread.
const SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.path, { timeout: 5000 });
db.pragma("synchronous = " + workerData.synchronous);
db.pragma("wal_autocheckpoint = 0");
let failures = 0;
const timer = setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
    failures = 0;
  } catch (error) {
    // Busy or I/O trouble: say so once in a while and try again next time; the server's own
    // connection still checkpoints on its (larger) automatic threshold.
    if (failures++ % 50 === 0) parentPort.postMessage({ error: String(error && error.message || error) });
  }
}, workerData.intervalMs);
`;

export class Checkpointer {
  private readonly worker: Worker;
  private stopped = false;

  constructor(path: string, synchronous: "NORMAL" | "FULL", onError: (message: string) => void) {
    const driver = createRequire(import.meta.url).resolve("better-sqlite3");
    this.worker = new Worker(SOURCE, { eval: true, workerData: { path, synchronous, driver, intervalMs: INTERVAL_MS } });
    this.worker.on("message", (message: { error?: string }) => {
      if (message.error) onError(message.error);
    });
    this.worker.on("error", (error) => onError(error.message));
    // The thread must never keep the process alive on its own.
    this.worker.unref();
  }

  /**
   * Ends the thread. A checkpoint it is running finishes first (native code is not interrupted);
   * the caller's own final checkpoint waits for it through the busy timeout. The thread's
   * connection is closed by the driver when the thread exits.
   */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    void this.worker.terminate();
  }
}
