import type { ComponentChildren } from "preact";
import { followLink, href } from "../router";

/** A link to a page of the dashboard: a real <a href>, followed in place on a plain click. */
export function Link(props: { to: string; children: ComponentChildren; class?: string; "aria-current"?: "page" }) {
  return (
    <a href={href(props.to)} class={props.class} aria-current={props["aria-current"]} onClick={(e) => followLink(e, props.to)}>
      {props.children}
    </a>
  );
}
