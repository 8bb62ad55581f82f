import type { TreeNode } from "../api/types";
import { duration } from "../format";
import { paths } from "../router";
import { Link } from "./link";
import { TimeAxis, scale } from "./time-axis";

// A call tree on a time axis: one bar per promise, from its creation to its settlement (or now,
// while pending), indented by depth, coloured by state.

interface Row {
  node: TreeNode;
  depth: number;
}

function flatten(node: TreeNode, depth = 0, out: Row[] = []): Row[] {
  out.push({ node, depth });
  for (const child of node.children) flatten(child, depth + 1, out);
  return out;
}

export function TreeTimeline({ root, now }: { root: TreeNode; now: number }) {
  const rows = flatten(root);
  const from = Math.min(...rows.map((r) => r.node.createdAt));
  const to = Math.max(from + 1, ...rows.map((r) => r.node.settledAt ?? now));
  const s = scale(from, to);
  return (
    <div class="timeline" data-testid="tree-timeline">
      <TimeAxis s={s} />
      {rows.map(({ node, depth }) => {
        const end = node.settledAt ?? now;
        return (
          <div class="timeline-row" key={node.id}>
            <div class="timeline-label" style={{ paddingLeft: `${depth * 0.75}rem` }}>
              <Link to={paths.promise(node.id)}>{node.id}</Link>
            </div>
            <div class="timeline-track">
              <div
                class={`timeline-bar state-${node.state}`}
                style={{ left: `${s.x(node.createdAt)}%`, width: `max(2px, ${s.x(end) - s.x(node.createdAt)}%)` }}
                title={`${node.id}: ${node.state}, ${duration(end - node.createdAt)}${node.settledAt === undefined ? " so far" : ""}`}
              />
            </div>
          </div>
        );
      })}
    </div>
  );
}
