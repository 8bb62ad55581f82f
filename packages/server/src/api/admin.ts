import { PROMISE_STATES, type PromiseRecord, TAG } from "@resonate-compat/protocol";
import type { GroupView } from "@resonate-compat/protocol/admin-overview";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { Clock } from "../clock";
import type { StreamDirectory } from "../delivery/streams";
import { GROUP_SCRAPE_LIMIT } from "../observability/group-gauges";
import type { Op } from "../store/op";
import type { Store, StoredTaskEvent, TaskGroupCounts, TaskRow, Tx } from "../store/store";
import { adminGuard } from "./admin-guard";
import type { Authenticator } from "./auth";

// The admin API: read-only JSON under /admin/ for operators' tools (the CLI's workers, backlog and
// history commands). It is this server's own, not part of the Resonate protocol; docs/admin-api.md
// describes it. With authentication on, only a token with role "admin" may use it.

export interface AdminDeps {
  store: Store;
  /** Every stream of the cluster (on SQLite, this server's). */
  directory: () => StreamDirectory;
  clock: Clock;
  auth?: Authenticator | undefined;
}

/** Most events a history answer carries, and the default. */
const MAX_EVENTS = 10_000;
/** Most promises a call tree reads (the tree says when it was cut). */
const MAX_TREE = 10_000;

const count = (max: number, fallback: number) => z.coerce.number().int().min(1).max(max).default(fallback);
/** A time as epoch milliseconds or an ISO 8601 date. */
const time = z.string().transform((text, ctx) => {
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: "custom", message: "epoch milliseconds or an ISO 8601 date" });
    return z.NEVER;
  }
  return ms;
});

const groupsQuery = z.object({ group: z.string().min(1).optional() }).strict();
const historyQuery = z.object({ limit: count(MAX_EVENTS, 1000) }).strict();
const treeQuery = z.object({ limit: count(MAX_TREE, 1000) }).strict();
const searchQuery = z
  .object({
    prefix: z.string().optional(),
    state: z.enum(PROMISE_STATES).optional(),
    /** tag=key:value, repeatable: every one must match. */
    tag: z.union([z.string(), z.array(z.string())]).optional(),
    /** tags={"key":"value",…} as JSON: the same, for keys that hold a colon (resonate:target…). */
    tags: z
      .string()
      .transform((text, ctx) => {
        const parsed = z.record(z.string(), z.string()).safeParse(parseJson(text));
        if (parsed.success) return parsed.data;
        ctx.addIssue({ code: "custom", message: 'a JSON object of strings, e.g. {"resonate:target":"poll://any@workers"}' });
        return z.NEVER;
      })
      .optional(),
    from: time.optional(),
    to: time.optional(),
    cursor: z.string().min(1).optional(),
    limit: count(1000, 100),
  })
  .strict();

export function registerAdminRoutes(app: FastifyInstance, deps: AdminDeps): void {
  app.register(async (admin) => {
    admin.addHook("onRequest", adminGuard(deps.auth));

    admin.get("/admin/groups", async (request, reply) => {
      const query = parse(groupsQuery, request, reply);
      if (!query) return reply;
      return groups(deps, query.group);
    });

    admin.get<{ Params: { id: string } }>("/admin/tasks/:id/history", async (request, reply) => {
      const query = parse(historyQuery, request, reply);
      if (!query) return reply;
      const { id } = request.params;
      const { task, events } = await deps.store.transact((tx) => taskWithHistory(tx, id, query.limit));
      if (!task && events.length === 0) return reply.code(404).send({ error: `no task ${id} and no history for it` });
      return {
        id,
        task: task ? { state: task.state, version: task.version, ...(task.pid !== undefined && { pid: task.pid }) } : null,
        events: events.map(({ taskId: _taskId, ...event }) => event),
      };
    });

    admin.get<{ Params: { id: string } }>("/admin/promises/:id/tree", async (request, reply) => {
      const query = parse(treeQuery, request, reply);
      if (!query) return reply;
      const tree = await callTree(deps.store, request.params.id, query.limit);
      if (!tree) return reply.code(404).send({ error: `no promise ${request.params.id}` });
      return tree;
    });

    admin.get("/admin/promises", async (request, reply) => {
      const query = parse(searchQuery, request, reply);
      if (!query) return reply;
      const tags: Record<string, string> = { ...query.tags };
      for (const pair of [query.tag ?? []].flat()) {
        const colon = pair.indexOf(":");
        if (colon <= 0) return reply.code(400).send({ error: `tag: expected key:value, got ${JSON.stringify(pair)}` });
        tags[pair.slice(0, colon)] = pair.slice(colon + 1);
      }
      const page = await deps.store.transact((tx) =>
        tx.searchPromises({
          limit: query.limit,
          ...(query.state !== undefined && { state: query.state }),
          ...(Object.keys(tags).length > 0 && { tags }),
          ...(query.prefix !== undefined && { idPrefix: query.prefix }),
          ...(query.from !== undefined && { createdFrom: query.from }),
          ...(query.to !== undefined && { createdTo: query.to }),
          ...(query.cursor !== undefined && { cursor: query.cursor }),
        }),
      );
      return { promises: page.items, ...(page.cursor !== undefined && { cursor: page.cursor }) };
    });

    admin.all("/admin/*", async (_request, reply) => reply.code(404).send({ error: "no such admin endpoint (see docs/admin-api.md)" }));
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The query string checked against `schema`; on failure a 400 naming the parameters, and undefined. */
function parse<T>(schema: z.ZodType<T>, request: FastifyRequest, reply: FastifyReply): T | undefined {
  const result = schema.safeParse(request.query);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    if (issue.code === "unrecognized_keys") return `unknown parameter ${issue.keys.join(", ")}`;
    return `${issue.path.join(".") || "query"}: ${issue.message}`;
  });
  void reply.code(400).send({ error: `bad parameters: ${problems.join("; ")}` });
  return undefined;
}

/** Every group with a worker or a live task: its workers (from the stream directory) and its backlog. */
export async function groups(deps: AdminDeps, only: string | undefined): Promise<{ groups: GroupView[] }> {
  const { counts, leases } = await deps.store.transact(groupCounts);
  const now = deps.clock.now();
  const views = new Map<string, GroupView>();
  const view = (group: string) => {
    let v = views.get(group);
    if (!v) views.set(group, (v = { group, workers: [], pending: 0, acquired: 0 }));
    return v;
  };
  for (const stream of deps.directory().all()) {
    const workers = view(stream.group).workers;
    const known = workers.find((w) => w.pid === stream.id);
    if (known) {
      known.streams++;
      if (stream.openedAt < known.connectedSince) Object.assign(known, { connectedSince: stream.openedAt, replica: stream.replica });
    } else {
      workers.push({ pid: stream.id, replica: stream.replica, streams: 1, tasks: leases.get(stream.id) ?? 0, connectedSince: stream.openedAt });
    }
  }
  for (const c of counts) {
    const v = view(c.group);
    v.pending = c.pending;
    v.acquired = c.acquired;
    if (c.oldestPendingAt !== undefined) v.oldestPendingAgeMs = Math.max(0, now - c.oldestPendingAt);
  }
  const list = [...views.values()]
    .filter((v) => only === undefined || v.group === only)
    .sort((a, b) => a.group.localeCompare(b.group));
  for (const v of list) v.workers.sort((a, b) => a.connectedSince - b.connectedSince || a.pid.localeCompare(b.pid));
  return { groups: list };
}

export interface TreeNode {
  id: string;
  state: PromiseRecord["state"];
  createdAt: number;
  settledAt?: number;
  /** Where its task is dispatched (tag resonate:target), if it has one. */
  target?: string;
  children: TreeNode[];
}

/**
 * The call tree under a promise, from the tags the SDKs write: every promise of one invocation
 * carries resonate:origin (the root's id) and resonate:parent (its caller's id). Reads the
 * origin's promises a page at a time, up to `limit`.
 */
async function callTree(store: Store, id: string, limit: number): Promise<{ root: TreeNode; nodes: number; truncated: boolean } | undefined> {
  return store.transact((tx) => readTree(tx, id, limit));
}

function* readTree(tx: Tx, id: string, limit: number): Op<{ root: TreeNode; nodes: number; truncated: boolean } | undefined> {
  const top = yield* tx.getPromise(id);
  if (!top) return undefined;
  const origin = top.tags[TAG.origin] ?? id;
  const members: PromiseRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = yield* tx.searchPromises({ tags: { [TAG.origin]: origin }, limit: Math.min(500, limit - members.length), ...(cursor !== undefined && { cursor }) });
    members.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined && members.length < limit);
  const node = (p: PromiseRecord): TreeNode => ({
    id: p.id,
    state: p.state,
    createdAt: p.createdAt,
    ...(p.settledAt !== undefined && { settledAt: p.settledAt }),
    ...(p.tags[TAG.target] !== undefined && { target: p.tags[TAG.target] }),
    children: [],
  });
  const nodes = new Map<string, TreeNode>([[top.id, node(top)]]);
  for (const p of members) if (!nodes.has(p.id)) nodes.set(p.id, node(p));
  for (const p of members) {
    const parent = p.tags[TAG.parent];
    if (p.id === top.id || parent === undefined || parent === p.id) continue;
    nodes.get(parent)?.children.push(nodes.get(p.id)!);
  }
  for (const n of nodes.values()) n.children.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  const root = nodes.get(top.id)!;
  let size = 0;
  const walk = (n: TreeNode) => {
    size++;
    n.children.forEach(walk);
  };
  walk(root);
  return { root, nodes: size, truncated: cursor !== undefined };
}

// Read-only transactions of the endpoints above, declared once rather than as a generator closure
// per request (see store/op.ts).

function* taskWithHistory(tx: Tx, id: string, limit: number): Op<{ task: TaskRow | undefined; events: StoredTaskEvent[] }> {
  return { task: yield* tx.getTask(id), events: yield* tx.taskEvents(id, limit) };
}

function* groupCounts(tx: Tx): Op<{ counts: TaskGroupCounts[]; leases: Map<string, number> }> {
  return { counts: yield* tx.taskGroups(GROUP_SCRAPE_LIMIT), leases: yield* tx.countLeases() };
}
