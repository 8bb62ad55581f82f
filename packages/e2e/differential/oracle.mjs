// The oracle: the official SDK's in-memory server model (`LocalNetwork`, @resonatehq/sdk 0.11.5),
// driven in-process. Used for behaviour only — nothing here copies its code.
//
// How it is driven (see docs/deviations.md, rows "harness"):
//  * `new LocalNetwork()` without `init()`: its 1 s background tick (spec D3) is never started, so
//    nothing happens behind the runner's back.
//  * Requests go to the model it wraps (`network.server.apply(now, request)`), which is exactly what
//    `LocalNetwork.send` does with `now = Date.now()` (spec D8: it ignores resonate:debug_time).
//    Calling `apply` with the step's time replaces faking Date.now. `send` itself is not used
//    because it runs the SDK's response shape check through an assert that calls process.exit(1)
//    when the model produces a response its own guards reject (D17, D22); we run that check
//    ourselves (`isResponse`) and report it instead.
//  * The response envelope is completed the way `send` does it (corrId and version echoed, D1)
//    and passed through JSON, as it would be on a wire.
//  * C1 shim: SDK 0.11.5's model only schedules background timeouts for promises with a target;
//    the 0.11.4 model (the baseline of spec §14) and our server (profile C1) time out every pending
//    promise. After every request the shim gives each pending promise without an entry a promise
//    timeout at its timeoutAt — what the 0.11.4 model does when it creates the promise.
//  * C2 shim: a heartbeat with an empty task list renews every lease its pid holds on our server
//    (profile C2); the model renews nothing. The shim hands the model the same heartbeat naming
//    the tasks the model's own snapshot says the pid holds, at their versions.

import { LocalNetwork, isResponse } from "@resonatehq/sdk";

export const SDK_VERSION = "0.11.5";

export class Oracle {
  constructor() {
    this.reset();
  }

  /** C2: an empty heartbeat from a pid names, for the model, every task that pid holds. */
  applyC2Shim(now, req) {
    const { pid, tasks } = req.data ?? {};
    if (typeof pid !== "string" || pid === "" || !Array.isArray(tasks) || tasks.length > 0) return;
    const snap = this.model.apply(now, { kind: "debug.snap", head: { corrId: "c2-shim", version: "2026-04-01" }, data: {} });
    const held = (snap?.response?.data?.tasks ?? []).filter((t) => t.state === "acquired" && t.pid === pid);
    if (held.length === 0) return;
    this.c2ShimHits = (this.c2ShimHits ?? 0) + 1;
    req.data = { ...req.data, tasks: held.map((t) => ({ id: t.id, version: t.version })) };
  }

  reset() {
    this.network = new LocalNetwork({ pid: "differential", group: "differential" });
    this.model = this.network.server;
    this.c1ShimHits = 0;
    /** promise id → firing time, for promises the model created by firing a schedule (D29). */
    this.firedAt = new Map();
  }

  /**
   * Applies one request at time `now`. Returns { env } with the JSON response envelope, plus
   * `shapeOk` (the SDK's own guard) — or { threw } when the model raised an exception.
   */
  apply(now, request) {
    const req = JSON.parse(JSON.stringify(request));
    if (req.kind === "task.heartbeat") this.applyC2Shim(now, req);
    const firing = req.kind === "debug.tick" ? this.beforeTick() : undefined;
    let result;
    try {
      result = this.model.apply(now, req);
    } catch (error) {
      return { threw: String(error?.message ?? error) };
    }
    if (firing) this.afterTick(firing);
    if (req.kind === "debug.reset" && result?.response?.head?.status === 200) this.firedAt.clear();
    if (result?.response === undefined) return { threw: "no response" };
    this.applyC1Shim();
    const res = {
      kind: result.response.kind,
      head: { corrId: request.head.corrId, status: result.response.head.status, version: request.head.version },
      data: result.response.data,
    };
    const shapeOk = isResponse(res);
    return { env: JSON.parse(JSON.stringify(res)), shapeOk };
  }

  /** Schedules due before a tick, with the promise id each would create and its firing time. */
  beforeTick() {
    const m = this.model;
    return m.sTimeouts.map((st) => {
      const sch = m.schedules.get(st.id);
      const id = sch.promiseId.replaceAll("{{.id}}", sch.id).replaceAll("{{.timestamp}}", String(st.timeout));
      return { id, firedAt: st.timeout, existed: m.promises.has(id), schedule: st.id };
    });
  }

  afterTick(candidates) {
    const m = this.model;
    for (const c of candidates) {
      const fired = m.schedules.get(c.schedule)?.lastRunAt === c.firedAt;
      if (fired && !c.existed && m.promises.has(c.id)) this.firedAt.set(c.id, c.firedAt);
    }
  }

  applyC1Shim() {
    const m = this.model;
    const have = new Set(m.pTimeouts.map((t) => t.id));
    for (const p of m.promises.values()) {
      if (p.state === "pending" && !have.has(p.id)) {
        m.pTimeouts.push({ id: p.id, timeout: p.timeoutAt });
        this.c1ShimHits++;
      }
    }
  }

  /** The branch siblings the model would preload for `id` (its task.fence answers [] instead, D23). */
  preloadOf(id) {
    return JSON.parse(JSON.stringify(this.model.preload(id)));
  }
}
