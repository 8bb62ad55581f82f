// Ceiling: a bare Fastify (the server's version) that answers POST / with the JSON body it got.
// No database, no validation: what HTTP + JSON alone cost on this machine.
import Fastify from "fastify";
import { mark } from "./producer-core.mjs";

const app = Fastify({ logger: false });
app.post("/", async (request) => request.body);
await app.listen({ host: "127.0.0.1", port: 0 });
const address = app.server.address();
mark("ready", { port: typeof address === "object" && address ? address.port : 0 });
