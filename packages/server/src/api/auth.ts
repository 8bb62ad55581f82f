import { createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { type JWTPayload, decodeJwt, jwtVerify } from "jose";
import { isRecord } from "@resonate-compat/protocol";

// JWT authentication and prefix authorization (spec §10). Off unless a public key is configured.

export interface AuthOptions {
  /** Path to a PEM public key (RSA, EC or Ed25519), or "none" to accept unsigned tokens. */
  publicKey: string;
  issuer?: string | undefined;
  audience?: string | undefined;
}

/** Algorithms a key of each type may verify; a token naming another algorithm is refused. */
const ALGORITHMS: Record<string, string[]> = {
  rsa: ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"],
  "rsa-pss": ["PS256", "PS384", "PS512"],
  ec: ["ES256", "ES384"],
  ed25519: ["EdDSA", "Ed25519"],
};

const LEEWAY_SECONDS = 60;

/** A setting that cannot work (unreadable key file, unsupported key type). */
export class ConfigurationError extends Error {
  override name = "ConfigurationError";
}

export class Authenticator {
  private constructor(
    private readonly key: KeyObject | undefined,
    private readonly options: AuthOptions,
  ) {}

  /** Reads the key once at start, so that a bad key file stops the server with a clear message. */
  static fromOptions(options: AuthOptions): Authenticator {
    if (options.publicKey === "none") return new Authenticator(undefined, options);
    let key: KeyObject;
    try {
      key = createPublicKey(readFileSync(options.publicKey));
    } catch (error) {
      throw new ConfigurationError(`cannot read the auth public key ${options.publicKey}: ${(error as Error).message}`);
    }
    if (!ALGORITHMS[key.asymmetricKeyType ?? ""]) {
      throw new ConfigurationError(`unsupported auth key type ${key.asymmetricKeyType} (use RSA, EC or Ed25519)`);
    }
    return new Authenticator(key, options);
  }

  /** The token's claims, or undefined when it is missing, malformed, expired or not trusted. */
  async verify(token: string | null | undefined): Promise<JWTPayload | undefined> {
    if (!token) return undefined;
    try {
      let claims: JWTPayload;
      if (this.key) {
        ({ payload: claims } = await jwtVerify(token, this.key, {
          algorithms: ALGORITHMS[this.key.asymmetricKeyType ?? ""],
          clockTolerance: LEEWAY_SECONDS,
        }));
      } else {
        claims = decodeJwt(token);
      }
      if (typeof claims.exp !== "number" || claims.exp + LEEWAY_SECONDS < Date.now() / 1000) return undefined;
      if (this.options.issuer !== undefined && claims.iss !== this.options.issuer) return undefined;
      if (this.options.audience !== undefined) {
        const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
        if (!audiences.includes(this.options.audience)) return undefined;
      }
      return claims;
    } catch {
      return undefined;
    }
  }
}

/** Whether the claims allow this request: an admin role, an empty prefix, or a prefix of its id. */
export function isAuthorized(claims: JWTPayload, kind: string, data: Record<string, unknown>): boolean {
  if (typeof claims["role"] === "string" && claims["role"].toLowerCase() === "admin") return true;
  const prefix = claims["prefix"];
  if (typeof prefix !== "string") return false;
  if (prefix === "") return true;
  const ids = resourceIds(kind, data);
  return ids === undefined || ids.every((id) => id.startsWith(prefix));
}

/**
 * The ids a request touches, for prefix checks; undefined when the id field is missing (validation
 * answers 400 later). Searches, debug and unknown kinds touch "" and so need an unrestricted token.
 */
function resourceIds(kind: string, data: Record<string, unknown>): string[] | undefined {
  const field = (value: unknown) => (typeof value === "string" ? [value] : undefined);
  switch (kind) {
    case "promise.get":
    case "promise.create":
    case "promise.settle":
    case "task.get":
    case "task.acquire":
    case "task.release":
    case "task.fulfill":
    case "task.suspend":
    case "task.fence":
    case "task.halt":
    case "task.continue":
    case "schedule.get":
    case "schedule.delete":
      return field(data["id"]);
    case "promise.register_callback":
    case "promise.register_listener":
      return field(data["awaited"]);
    case "schedule.create":
      return field(data["promiseId"]);
    case "task.create": {
      const action = data["action"];
      const actionData = isRecord(action) ? action["data"] : undefined;
      return field(isRecord(actionData) ? actionData["id"] : undefined);
    }
    case "task.heartbeat": {
      const tasks = data["tasks"];
      if (!Array.isArray(tasks)) return undefined;
      return tasks.map((t) => (isRecord(t) && typeof t["id"] === "string" ? t["id"] : ""));
    }
    default:
      return [""];
  }
}

/** The token of a poll request: `Authorization: Bearer <token>`, exactly one space. */
export function bearerToken(header: string | undefined): string | undefined {
  return header?.startsWith("Bearer ") ? header.slice("Bearer ".length) : undefined;
}
