import type { PromiseRecord } from "@resonate-compat/protocol";
import type { Page } from "./store";

/** The most a search page carries; a page of huge records ends early, with a cursor. */
const PAGE_BYTES = 8 * 1024 * 1024;

/**
 * Cuts rows (fetched as limit + 1) into a page: at most `limit` rows and about PAGE_BYTES of them
 * (always at least one), with a cursor when more rows exist.
 */
export function page<T extends { id: string }>(rows: T[], limit: number, size: (row: T) => number): Page<T> {
  const items: T[] = [];
  let bytes = 0;
  for (const row of rows) {
    if (items.length === limit || (items.length > 0 && bytes + size(row) > PAGE_BYTES)) break;
    items.push(row);
    bytes += size(row);
  }
  return items.length < rows.length ? { items, cursor: items[items.length - 1]!.id } : { items };
}

/** A search page's size estimate of a promise. */
export const promiseBytes = (p: PromiseRecord): number =>
  p.id.length + (p.param.data?.length ?? 0) + (p.value.data?.length ?? 0) + JSON.stringify(p.tags).length;
