import { type Command, Option } from "commander";
import { ProtocolClient } from "./client";
import { Printer } from "./output/printer";

// The flags every client command shares, and what a command needs from them: a client for the
// chosen server and token, and a printer for the chosen output.

export const DEFAULT_SERVER = "http://localhost:8001";

export interface GlobalOptions {
  server: string;
  token?: string;
  json?: boolean;
}

export function addGlobalOptions(program: Command): Command {
  return program
    .addOption(new Option("-S, --server <url>", "server URL").env("RESONATE_URL").default(DEFAULT_SERVER))
    .addOption(new Option("-T, --token <jwt>", "token for a server with authentication on").env("RESONATE_TOKEN"))
    .addOption(new Option("--json", "print the answer's data as JSON (machine-readable)"));
}

export interface Context {
  client: ProtocolClient;
  out: Printer;
}

/** Reads the global flags wherever they were written (before or after the command name). */
export function contextOf(command: Command): Context {
  const options = command.optsWithGlobals<GlobalOptions>();
  return {
    client: new ProtocolClient(options.server, options.token || undefined),
    out: new Printer(options.json === true),
  };
}
