import type { FastifyReply, FastifyRequest } from "fastify";
import { type Authenticator, bearerToken } from "./auth";

// The admin API's door (admin.ts, and the dashboard's overview in dashboard/routes.ts): with
// authentication on, only a token whose claims carry role "admin" gets through — 401 without a
// valid token, 403 with another role.

export function adminGuard(auth: Authenticator | undefined) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    if (!auth) return undefined;
    const claims = await auth.verify(bearerToken(request.headers.authorization));
    if (!claims) return reply.code(401).send({ error: "Unauthorized: an admin token is required (Authorization: Bearer)" });
    const role = claims["role"];
    if (typeof role !== "string" || role.toLowerCase() !== "admin") return reply.code(403).send({ error: "Forbidden: the admin API needs role admin" });
    return undefined;
  };
}
