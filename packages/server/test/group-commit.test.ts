// Group commit: jobs of one event-loop turn share a transaction, answers wait for the commit, a
// failing job fails alone, a failing commit fails everyone and leaves nothing behind.

import * as net from "node:net";
import type { PromiseRecord } from "@resonate-compat/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GroupCommit, type SyncTransactor } from "../src/store/commit/group-commit";
import type { Op } from "../src/store/op";
import { SqliteStore } from "../src/store/sqlite/sqlite-store";
import type { Tx } from "../src/store/store";
import { call, openSse, startTestServer } from "./helpers";

const promise = (id: string): PromiseRecord => ({
  id,
  state: "pending",
  param: { headers: {}, data: "" },
  value: { headers: {}, data: "" },
  tags: {},
  timeoutAt: 1e15,
  createdAt: 1,
});

let store: SqliteStore;
beforeEach(() => {
  store = SqliteStore.open(":memory:");
});
afterEach(() => void store.close());

/** A store that counts real transactions and can be told to fail the next commit. */
function instrumented(inner: SqliteStore) {
  const state = { transactions: 0, failNextCommit: false };
  const wrapped: SyncTransactor = {
    transactSync<T>(op: (tx: Tx) => Op<T>): T {
      state.transactions++;
      return inner.transactSync(function* (tx) {
        const result = yield* op(tx);
        if (state.failNextCommit) {
          state.failNextCommit = false;
          throw new Error("disk I/O error (simulated commit failure)");
        }
        return result;
      });
    },
  };
  return { store: wrapped, state };
}

const exists = (id: string) => store.transactSync((tx) => tx.getPromise(id)) !== undefined;

describe("GroupCommit", () => {
  it("runs the jobs submitted in one turn in one transaction, in order, each seeing the earlier ones' writes", async () => {
    const { store: counted, state } = instrumented(store);
    const commits = new GroupCommit(counted);
    const results = await Promise.all([
      commits.submit((tx) => tx.insertPromise(promise("a"))),
      commits.submit(function* (tx) {
        return (yield* tx.getPromise("a"))?.id;
      }),
      commits.submit(function* (tx) {
        yield* tx.insertPromise(promise("b"));
        return "b";
      }),
    ]);
    expect(results).toEqual([undefined, "a", "b"]);
    expect(state.transactions).toBe(1);
    expect(commits.stats).toEqual({ batches: 1, jobs: 3 });
    expect(exists("a") && exists("b")).toBe(true);
  });

  it("jobs submitted in different turns get their own transactions", async () => {
    const { store: counted, state } = instrumented(store);
    const commits = new GroupCommit(counted);
    await commits.submit((tx) => tx.insertPromise(promise("a")));
    await commits.submit((tx) => tx.insertPromise(promise("b")));
    expect(state.transactions).toBe(2);
  });

  it("a job that throws is rolled back alone; the others of its batch commit", async () => {
    const commits = new GroupCommit(store);
    const outcomes = await Promise.allSettled([
      commits.submit((tx) => tx.insertPromise(promise("before"))),
      commits.submit(function* (tx) {
        yield* tx.insertPromise(promise("doomed"));
        throw new Error("bug in an operation");
      }),
      commits.submit((tx) => tx.insertPromise(promise("after"))),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((outcomes[1] as PromiseRejectedResult).reason.message).toBe("bug in an operation");
    expect([exists("before"), exists("doomed"), exists("after")]).toEqual([true, false, true]);
  });

  it("a batch whose jobs all succeed runs without savepoints; one with a failing job runs again, each job in a savepoint", async () => {
    let attempts = 0;
    const counting = {
      transactSync: <T>(op: (tx: Tx) => Op<T>) =>
        store.transactSync((tx) => op(new Proxy(tx, { get: (t, k) => (k === "attempt" && attempts++, Reflect.get(t, k, t)) }))),
    };
    const commits = new GroupCommit(counting);
    await Promise.all(["s1", "s2"].map((id) => commits.submit((tx) => tx.insertPromise(promise(id)))));
    expect(attempts).toBe(0);
    let firstRuns = 0;
    const outcomes = await Promise.allSettled([
      commits.submit(function* (tx) {
        firstRuns++;
        yield* tx.insertPromise(promise("f1"));
      }),
      commits.submit(function* () {
        throw new Error("bug");
      }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected"]);
    expect((outcomes[1] as PromiseRejectedResult).reason.message).toBe("bug");
    expect(attempts).toBe(2);
    expect(firstRuns).toBe(2); // its first run was rolled back with the batch
    expect(exists("f1")).toBe(true);
  });

  it("a lone job that throws is rolled back", async () => {
    const commits = new GroupCommit(store);
    await expect(commits.submit(function* (tx) {
      yield* tx.insertPromise(promise("lone"));
      throw new Error("boom");
    })).rejects.toThrow("boom");
    expect(exists("lone")).toBe(false);
  });

  it("when the commit fails, every job of the batch fails and none of their writes exist", async () => {
    const { store: failing, state } = instrumented(store);
    const commits = new GroupCommit(failing);
    state.failNextCommit = true;
    const outcomes = await Promise.allSettled(["x", "y", "z"].map((id) => commits.submit((tx) => tx.insertPromise(promise(id)))));
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected", "rejected"]);
    expect([exists("x"), exists("y"), exists("z")]).toEqual([false, false, false]);
    // The next batch is unaffected.
    await commits.submit((tx) => tx.insertPromise(promise("x")));
    expect(exists("x")).toBe(true);
  });

  it("no job's promise settles before the commit: afterCommit runs first and sees the data committed", async () => {
    const events: string[] = [];
    const commits = new GroupCommit(store, {
      beforeCommit: function* (tx) {
        events.push("beforeCommit");
        return (yield* tx.getPromise("p"))?.id;
      },
      afterCommit: (seen) => {
        // A separate read outside the batch's transaction: the write is committed by now.
        events.push(`afterCommit:${seen}:${exists("p")}`);
      },
    });
    const answered = commits.submit((tx) => tx.insertPromise(promise("p"))).then(() => events.push("answered"));
    await Promise.resolve();
    expect(events).toEqual([]); // not even run yet: the batch waits for the end of the turn
    await answered;
    expect(events).toEqual(["beforeCommit", "afterCommit:p:true", "answered"]);
  });

  it("splits a very large turn into bounded batches", async () => {
    const { store: counted, state } = instrumented(store);
    const commits = new GroupCommit(counted);
    await Promise.all(Array.from({ length: 600 }, (_, i) => commits.submit((tx) => tx.insertPromise(promise(`p${i}`)))));
    expect(state.transactions).toBe(3); // 256 + 256 + 88
    expect(exists("p599")).toBe(true);
  });
});

describe("SqliteStore.claimOutgoing after a batch", () => {
  it("a claim that rolled back leaves its messages claimable (the empty-outbox shortcut is reset)", () => {
    store.transactSync(function* (tx) {
      yield* tx.insertPromise(promise("t"));
      yield* tx.putTask({ id: "t", state: "pending", version: 1 });
      yield* tx.enqueueExecute("t", 1, "poll://any@workers");
    });
    expect(() => store.transactSync(function* (tx) {
      expect(yield* tx.claimOutgoing(100)).toHaveLength(1);
      throw new Error("commit failed");
    })).toThrow("commit failed");
    expect(store.transactSync((tx) => tx.claimOutgoing(100)).map((m) => m.kind)).toEqual(["execute"]);
    expect(store.transactSync((tx) => tx.claimOutgoing(100))).toEqual([]);
  });

  it("messages queued by a request are claimed by its own batch, after the commit", async () => {
    const claimed: string[][] = [];
    const commits = new GroupCommit(store, {
      beforeCommit: (tx) => tx.claimOutgoing(100),
      afterCommit: (messages) => claimed.push(messages.map((m) => (m.kind === "execute" ? m.taskId : m.promise.id))),
    });
    await Promise.all([
      commits.submit(function* (tx) {
        yield* tx.insertPromise(promise("t1"));
        yield* tx.putTask({ id: "t1", state: "pending", version: 1 });
        yield* tx.enqueueExecute("t1", 1, "poll://any@workers");
      }),
      commits.submit((tx) => tx.getPromise("t1")),
    ]);
    await commits.submit((tx) => tx.getPromise("t1"));
    expect(claimed).toEqual([["t1"], []]);
  });
});

/** One keep-alive connection that sends raw POST / requests and reads their answers in order. */
class RawClient {
  private buffer = "";
  private waiting: ((answer: { status: number; body: string }) => void)[] = [];

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.buffer += chunk;
      for (;;) {
        const headEnd = this.buffer.indexOf("\r\n\r\n");
        if (headEnd < 0) return;
        const head = this.buffer.slice(0, headEnd);
        const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (this.buffer.length < headEnd + 4 + length) return;
        const body = this.buffer.slice(headEnd + 4, headEnd + 4 + length);
        this.buffer = this.buffer.slice(headEnd + 4 + length);
        this.waiting.shift()?.({ status: Number(head.split(" ")[1]), body });
      }
    });
  }

  static connect(url: string): Promise<RawClient> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(port), hostname, () => resolve(new RawClient(socket)));
      socket.once("error", reject);
    });
  }

  /** Writes the request now (synchronously) and resolves with its answer. */
  post(body: string): Promise<{ status: number; body: string }> {
    const answer = new Promise<{ status: number; body: string }>((resolve) => this.waiting.push(resolve));
    this.socket.write(`POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    return answer;
  }

  close(): void {
    this.socket.destroy();
  }
}

const createBody = (id: string) => JSON.stringify({
  kind: "promise.create",
  head: { corrId: id, version: "2026-04-01" },
  data: { id, timeoutAt: Date.now() + 60_000, param: { headers: {}, data: "" }, tags: { "resonate:target": "poll://any@batch" } },
});

describe("the server's request path under concurrency", () => {
  it("requests arriving together share transactions, every one is answered after its commit, and every execute they queue is delivered once", async () => {
    // Only the requests below may run jobs in the measured window: no timeout pass (hourly here), and
    // the backlog pass that a new stream sets off (200 ms after it opens) is over before it starts.
    const ts = await startTestServer({ debug: false, timeoutsInterval: 3_600_000 });
    const stream = await openSse(ts.url, "batch", "w1");
    await new Promise((resolve) => setTimeout(resolve, 400));
    try {
      const n = 80;
      // Warm keep-alive connections (as SDKs hold them), then one request on each, all written in one
      // synchronous loop: they reach the server together, as from many client processes at once.
      const clients = await Promise.all(Array.from({ length: n }, () => RawClient.connect(ts.url)));
      await Promise.all(clients.map((c) => c.post(JSON.stringify({ kind: "promise.get", head: { corrId: "w", version: "2026-04-01" }, data: { id: "none" } }))));
      const commits = ts.server.commits as GroupCommit<unknown>;
      const before = { ...commits.stats };
      const ids = Array.from({ length: n }, (_, i) => `gc${i}`);
      const answers = await Promise.all(clients.map((c, i) => c.post(createBody(ids[i]!))));
      clients.forEach((c) => c.close());
      expect(answers.map((a) => a.status)).toEqual(Array(n).fill(200));
      expect(answers.map((a) => JSON.parse(a.body).data.promise.id).sort()).toEqual([...ids].sort());
      const jobs = commits.stats.jobs - before.jobs;
      const batches = commits.stats.batches - before.batches;
      expect(jobs).toBe(n);
      expect(batches).toBeLessThan(n / 4); // most requests shared a commit with others
      // Every answered create is stored, and its execute went out exactly once.
      for (const id of ids) expect((await call(ts.url, "promise.get", { id })).status).toBe(200);
      const events = await stream.waitFor(n, 5_000);
      const sent = events.map((e) => e.json?.data?.task?.id as string).sort();
      expect(sent).toEqual([...ids].sort());
    } finally {
      stream.close();
      await ts.close();
    }
  });
});

describe("SqliteStore outbox: messages queued and claimed in one transaction", () => {
  function* seed(tx: Tx, id: string): Op<void> {
    yield* tx.insertPromise(promise(id));
    yield* tx.putTask({ id, state: "pending", version: 1 });
  }
  const claim = () => store.transactSync((tx) => tx.claimOutgoing(100));
  const describeAll = (messages: ReturnType<typeof claim>) =>
    messages.map((m) => (m.kind === "execute" ? `execute ${m.taskId}@${m.version} ${m.address}` : `unblock ${m.promise.id} ${m.address}`));

  it("one execute per task (the latest version, first place) and one unblock per promise and address", () => {
    const claimed = store.transactSync(function* (tx) {
      yield* seed(tx, "a");
      yield* seed(tx, "b");
      yield* tx.enqueueExecute("a", 1, "poll://any@g");
      yield* tx.enqueueExecute("b", 1, "poll://any@g");
      yield* tx.enqueueExecute("a", 2, "poll://any@h");
      yield* tx.enqueueUnblock("a", "poll://uni@c/1");
      yield* tx.enqueueUnblock("a", "poll://uni@c/1");
      yield* tx.enqueueUnblock("a", "poll://uni@c/2");
      return yield* tx.claimOutgoing(100);
    });
    expect(describeAll(claimed)).toEqual([
      "execute a@2 poll://any@h",
      "execute b@1 poll://any@g",
      "unblock a poll://uni@c/1",
      "unblock a poll://uni@c/2",
    ]);
    expect(claim()).toEqual([]); // nothing was left in the tables
    expect(store.transactSync((tx) => tx.snapshot()).executes).toEqual([]);
  });

  it("what no claim took is stored at commit; a later claim merges it with newer messages", () => {
    store.transactSync(function* (tx) {
      yield* seed(tx, "a");
      yield* tx.enqueueExecute("a", 1, "poll://any@g");
      yield* tx.enqueueUnblock("a", "poll://uni@c/1");
    });
    expect(store.transactSync((tx) => tx.snapshot()).executes).toEqual([{ taskId: "a", version: 1, address: "poll://any@g" }]);
    const claimed = store.transactSync(function* (tx) {
      yield* tx.enqueueExecute("a", 3, "poll://any@g");
      yield* tx.enqueueUnblock("a", "poll://uni@c/1");
      return yield* tx.claimOutgoing(100);
    });
    expect(describeAll(claimed)).toEqual(["execute a@3 poll://any@g", "unblock a poll://uni@c/1"]);
    expect(claim()).toEqual([]);
  });

  it("messages of a rolled-back savepoint or transaction are gone", () => {
    expect(() => store.transactSync(function* (tx) {
      yield* seed(tx, "gone");
      yield* tx.enqueueExecute("gone", 1, "poll://any@g");
      throw new Error("rolled back");
    })).toThrow("rolled back");
    const claimed = store.transactSync(function* (tx) {
      yield* seed(tx, "kept");
      yield* tx.enqueueExecute("kept", 1, "poll://any@g");
      const error = yield* tx.attempt(function* () {
        yield* seed(tx, "undone");
        yield* tx.enqueueExecute("undone", 1, "poll://any@g");
        throw new Error("bad row");
      });
      expect(error?.message).toBe("bad row");
      return yield* tx.claimOutgoing(100);
    });
    expect(describeAll(claimed)).toEqual(["execute kept@1 poll://any@g"]);
    expect(claim()).toEqual([]);
  });

  it("debug.snap inside a transaction shows the messages it queued so far", () => {
    const snap = store.transactSync(function* (tx) {
      yield* seed(tx, "s");
      yield* tx.enqueueExecute("s", 1, "poll://any@g");
      return yield* tx.snapshot();
    });
    expect(snap.executes).toEqual([{ taskId: "s", version: 1, address: "poll://any@g" }]);
  });
});
