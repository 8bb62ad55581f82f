/** The only reader of the wall clock. Everything else is handed `now`. */
export interface Clock {
  now(): number;
}

/** Wall-clock milliseconds, made monotonic: if the system clock steps back, time stands still. */
export class SystemClock implements Clock {
  private last = 0;
  now(): number {
    const t = Date.now();
    if (t > this.last) this.last = t;
    return this.last;
  }
}

/** A clock that tests move by hand. */
export class ManualClock implements Clock {
  constructor(private time = 0) {}
  now(): number {
    return this.time;
  }
  set(time: number): void {
    this.time = time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}
