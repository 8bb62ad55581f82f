// A tiny seeded PRNG (mulberry32) and the choice helpers the generator uses.
// Same seed → same sequence, on every platform: this is what makes a failing seed replayable.

export function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Rng {
  constructor(seed) {
    this.next = mulberry32(seed);
  }
  /** true with probability p */
  chance(p) {
    return this.next() < p;
  }
  /** integer in [lo, hi] */
  int(lo, hi) {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick(items) {
    return items[Math.floor(this.next() * items.length)];
  }
  /** entries: [[weight, value], ...] */
  weighted(entries) {
    const total = entries.reduce((s, [w]) => s + w, 0);
    let r = this.next() * total;
    for (const [w, v] of entries) {
      if ((r -= w) < 0) return v;
    }
    return entries[entries.length - 1][1];
  }
  /** k distinct-ish picks (duplicates allowed when dup is true) */
  some(items, k, dup = false) {
    const out = [];
    for (let i = 0; i < k; i++) {
      const v = this.pick(items);
      if (dup || !out.includes(v)) out.push(v);
    }
    return out;
  }
}
