/** A database problem an operator must fix; reported as one clear line, not a stack trace. */
export class DatabaseOpenError extends Error {
  override name = "DatabaseOpenError";
}
