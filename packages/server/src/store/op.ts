// How one domain serves a synchronous store (SQLite, better-sqlite3) and an asynchronous one
// (PostgreSQL) without its rules being written twice.
//
// A store verb, and every domain operation built from verbs, is a generator: it `yield`s the
// promise of a database round trip whenever it needs one, and `return`s its result. The PostgreSQL
// runner awaits each yielded promise and resumes the generator with its value; SQLite's verbs never
// yield, so the synchronous runner drives an operation to its end in one call and SQLite keeps
// "nothing is awaited inside a transaction". Domain code reads `const task = yield* tx.getTask(id)`.
//
// Generator functions are declared once — at module level, or as class methods — and never made
// per call (no `function* () {…}` inside a function): V8 gives a freshly made generator function its
// own prototype and hidden class in the old generation, pointing back at the function, so whatever
// the closure captures (a group commit's whole batch) outlives every scavenge until a full GC. That
// tripled the bytes the server promotes per invocation; a job that needs state takes it as
// arguments, through an arrow: `store.transact((tx) => queueReoffers(tx, offers))`.
// test/generator-closures.test.ts keeps them out.

/** A store operation producing a T: yields database round trips, returns the result. */
export type Op<T> = Generator<PromiseLike<unknown>, T, unknown>;

/** Drives an operation of a synchronous store; an operation that yields is a bug there. */
export function runSync<T>(op: Op<T>): T {
  const step = op.next();
  if (!step.done) {
    op.return(undefined as T);
    throw new Error("a synchronous store operation waited for a round trip");
  }
  return step.value;
}

/** Drives an operation of an asynchronous store: each yielded promise is awaited and handed back. */
export async function runAsync<T>(op: Op<T>): Promise<T> {
  let step = op.next();
  while (!step.done) {
    let value: unknown;
    try {
      value = await step.value;
    } catch (error) {
      step = op.throw(error);
      continue;
    }
    step = op.next(value);
  }
  return step.value;
}

/** An operation that needs no round trip: a value as an Op. */
// eslint-disable-next-line require-yield
export function* just<T>(value: T): Op<T> {
  return value;
}
