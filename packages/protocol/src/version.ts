/** The only protocol version this server and SDK speak (spec §2.2). */
export const PROTOCOL_VERSION = "2026-04-01";
