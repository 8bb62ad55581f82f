import type { TreeNode } from "../api/types";
import { duration } from "../format";
import { paths } from "../router";
import { Link } from "./link";
import { StateBadge } from "./state-badge";

/** A call tree as nested lists: each promise with its state, how long it took, and where it ran. */
export function CallTree({ node, current }: { node: TreeNode; current?: string }) {
  return (
    <ul class="tree" data-testid="call-tree">
      <TreeItem node={node} current={current} />
    </ul>
  );
}

function TreeItem({ node, current }: { node: TreeNode; current?: string | undefined }) {
  return (
    <li data-id={node.id} data-state={node.state}>
      <span class="tree-node">
        {node.id === current ? <strong aria-current="true">{node.id}</strong> : <Link to={paths.promise(node.id)}>{node.id}</Link>} <StateBadge state={node.state} />
        {node.settledAt !== undefined && <span class="muted"> {duration(node.settledAt - node.createdAt)}</span>}
        {node.target && <span class="muted"> → {node.target}</span>}
      </span>
      {node.children.length > 0 && (
        <ul>
          {node.children.map((child) => (
            <TreeItem key={child.id} node={child} current={current} />
          ))}
        </ul>
      )}
    </li>
  );
}
