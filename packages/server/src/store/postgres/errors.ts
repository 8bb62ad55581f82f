/** PostgreSQL error codes (SQLSTATE) this store acts on. */
const SERIALIZATION_FAILURE = "40001";
const DEADLOCK_DETECTED = "40P01";
const UNIQUE_VIOLATION = "23505";

/**
 * Errors after which the whole transaction is run again: a conflict with a concurrent transaction
 * (another request, another replica). Row locks make most conflicts wait instead; what is left is
 * two creates of one new id racing to the primary key — the retry then finds the row (a unique
 * violation is retryable only because every insert in this store follows a read that found no
 * row) — and deadlocks between transactions that lock the same rows in different orders.
 * Serialization failures are listed for completeness (a stricter isolation level would raise them).
 */
export function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === SERIALIZATION_FAILURE || code === DEADLOCK_DETECTED || code === UNIQUE_VIOLATION;
}
