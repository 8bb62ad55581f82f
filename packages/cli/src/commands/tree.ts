import type { Command } from "commander";
import type { PromiseRecord } from "@resonate-compat/protocol";
import { contextOf } from "../context";
import { ServerError } from "../errors";
import { invocationOf } from "../values";
import { TAG } from "../wire";

// resonate tree <id>: the call graph of a run. Every promise an SDK creates for a run carries
// resonate:origin = the run's id and resonate:parent = its caller (spec §4.3), so one search by
// origin finds them all and the parent tags link them.

/** The largest page the protocol allows: fewer round trips for a big run. */
const PAGE = 1000;

export interface TreeNode {
  promise: PromiseRecord;
  children: TreeNode[];
  /** The root itself is gone (only its descendants were found). */
  missing?: true;
}

export function registerTree(program: Command): void {
  program
    .command("tree")
    .description("show the call graph of a run: its promises, linked by resonate:parent")
    .argument("<id>", "the run's root promise id")
    .action(async (id: string, _options: object, command: Command) => {
      const { client, out } = contextOf(command);
      const found: PromiseRecord[] = [];
      let cursor: string | undefined;
      do {
        const { data } = await client.call("promise.search", {
          tags: { [TAG.origin]: id },
          limit: PAGE,
          ...(cursor !== undefined && { cursor }),
        });
        found.push(...data.promises);
        cursor = data.cursor;
      } while (cursor !== undefined);

      // A root created without an origin tag (the reference CLI's invoke) is not in the search.
      let root = found.find((p) => p.id === id);
      if (!root) {
        try {
          root = (await client.call("promise.get", { id })).data.promise;
        } catch (error) {
          if (!(error instanceof ServerError && error.status === 404 && found.length > 0)) throw error;
        }
      }
      const tree = buildTree(id, root, found);
      out.result(tree, () => renderTree(tree).join("\n"));
    });
}

/**
 * Links promises to their parents; a promise whose parent is not in the run hangs under the root,
 * so that nothing found is left out. Children in creation order.
 */
export function buildTree(rootId: string, root: PromiseRecord | undefined, promises: PromiseRecord[]): TreeNode {
  const nodes = new Map<string, TreeNode>();
  for (const p of promises) nodes.set(p.id, { promise: p, children: [] });
  const rootNode: TreeNode = nodes.get(rootId) ??
    (root
      ? { promise: root, children: [] }
      : { promise: { id: rootId, state: "pending", param: {}, value: {}, tags: {}, timeoutAt: 0, createdAt: 0 }, children: [], missing: true });
  for (const node of nodes.values()) {
    if (node === rootNode) continue;
    const parentId = node.promise.tags[TAG.parent];
    const parent = parentId !== undefined && parentId !== node.promise.id ? nodes.get(parentId) : undefined;
    (parent ?? rootNode).children.push(node);
  }
  const order = (a: TreeNode, b: TreeNode) => a.promise.createdAt - b.promise.createdAt || (a.promise.id < b.promise.id ? -1 : 1);
  for (const node of [rootNode, ...nodes.values()]) node.children.sort(order);
  return rootNode;
}

/** Lines such as "├── job-1.0  resolved  rpc add". */
export function renderTree(node: TreeNode, prefix = "", connector = ""): string[] {
  const lines = [`${prefix}${connector}${node.missing ? `${node.promise.id}  (not found)` : describeNode(node.promise)}`];
  const childPrefix = prefix + (connector === "├── " ? "│   " : connector === "" ? "" : "    ");
  node.children.forEach((child, i) => {
    lines.push(...renderTree(child, childPrefix, i === node.children.length - 1 ? "└── " : "├── "));
  });
  return lines;
}

function describeNode(p: PromiseRecord): string {
  const parts = [p.id, p.state];
  if (p.tags[TAG.timer] === "true") parts.push("sleep");
  else {
    const scope = p.tags[TAG.scope];
    const func = invocationOf(p.param)?.func;
    if (scope === "global") parts.push(func ? `rpc ${func}` : "rpc");
    else if (scope === "local") parts.push(func ? `run ${func}` : "run");
    else if (func) parts.push(func);
  }
  return parts.join("  ");
}
