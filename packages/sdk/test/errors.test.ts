import { describe, expect, it } from "vitest";
import {
  PromiseCanceledError,
  PromiseNotFoundError,
  PromiseRejectedError,
  PromiseTimedOutError,
  ResonateError,
  ResonateStoppedError,
  ResonateUnreachableError,
} from "../src/errors";

describe("errors", () => {
  it("a protocol refusal carries the kind, the status and the server's message", () => {
    const err = new ResonateError("task.acquire", 409, "Task is not pending");
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ name: "ResonateError", kind: "task.acquire", status: 409, serverMessage: "Task is not pending" });
    expect(err.message).toBe("task.acquire answered 409: Task is not pending");
  });

  it("a missing promise is a ResonateError with status 404 and a clear message", () => {
    const err = new PromiseNotFoundError("job-9", "Promise not found");
    expect(err).toBeInstanceOf(ResonateError);
    expect(err.status).toBe(404);
    expect(err.message).toContain('No promise with id "job-9"');
  });

  it("an unreachable server is a different class that names the url", () => {
    const err = new ResonateUnreachableError("http://127.0.0.1:1", "promise.create", 4, "connect ECONNREFUSED 127.0.0.1:1");
    expect(err).not.toBeInstanceOf(ResonateError);
    expect(err.message).toBe("Could not reach the Resonate server at http://127.0.0.1:1 (promise.create, 4 attempts): connect ECONNREFUSED 127.0.0.1:1");
    expect(new ResonateUnreachableError("u", "k", 1, "r").message).toContain("1 attempt)");
    expect(new ResonateUnreachableError("http://h", "promise.create", 1, "HTTP 400: bad", 400).message).toBe(
      "The Resonate server at http://h gave no protocol answer (promise.create, 1 attempt): HTTP 400: bad",
    );
  });

  it("settlement errors name the promise", () => {
    expect(new PromiseTimedOutError("a").message).toBe('Promise "a" timed out');
    expect(new PromiseCanceledError("a").message).toBe('Promise "a" was canceled');
    expect(new PromiseRejectedError("a", "oops").message).toBe("oops");
    expect(new PromiseRejectedError("a", { code: 7 })).toMatchObject({ message: 'Promise "a" was rejected with {"code":7}', value: { code: 7 } });
    expect(new ResonateStoppedError("a").name).toBe("ResonateStoppedError");
  });
});
