import { AuthError, NotFoundError } from "../api/client";

/** What a page shows when its read failed: a missing id in plain words, anything else as an error. */
export function Problem({ error, missing }: { error: Error; missing: string }) {
  if (error instanceof AuthError) return null; // the token prompt takes over
  if (error instanceof NotFoundError) {
    return (
      <p class="notice" role="status" data-testid="not-found">
        {missing}
      </p>
    );
  }
  return (
    <p class="notice error" role="alert">
      {error.message}
    </p>
  );
}
