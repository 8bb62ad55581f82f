import { useEffect, useState } from "preact/hooks";

// Routing in the browser under /ui (the server answers every /ui/… path with the page): the path
// after /ui names the page, the query its inputs. Links are real <a href> elements, so they work
// with the keyboard, open in a new tab, and survive a reload.

export const BASE = "/ui";

export interface Location {
  /** The path after /ui, always starting with "/". */
  path: string;
  query: URLSearchParams;
}

function current(): Location {
  const raw = window.location.pathname.startsWith(BASE) ? window.location.pathname.slice(BASE.length) : window.location.pathname;
  return { path: raw === "" ? "/" : raw, query: new URLSearchParams(window.location.search) };
}

const listeners = new Set<() => void>();
window.addEventListener("popstate", () => listeners.forEach((l) => l()));

export function useLocation(): Location {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const update = () => setLocation(current());
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return location;
}

/** Goes to `to` (a path under /ui, with its query) without reloading. */
export function navigate(to: string, replace = false): void {
  const url = BASE + to;
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  listeners.forEach((l) => l());
  if (!replace) window.scrollTo(0, 0);
}

/** The href of a page under /ui. */
export function href(to: string): string {
  return BASE + to;
}

/** Follows a click on one of our links in place; lets modified clicks (new tab…) through. */
export function followLink(event: MouseEvent, to: string): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(to);
}

/** Paths of the pages; ids are encoded, since they may hold "/" or "?". */
export const paths = {
  overview: () => "/",
  invocations: (query = "") => `/invocations${query ? `?${query}` : ""}`,
  promise: (id: string) => `/invocations/${encodeURIComponent(id)}`,
  task: (id: string) => `/tasks/${encodeURIComponent(id)}`,
  schedules: () => "/schedules",
  schedule: (id: string) => `/schedules/${encodeURIComponent(id)}`,
};
