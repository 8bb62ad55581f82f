import { Command } from "commander";
import { COMMANDS } from "./commands";
import { addGlobalOptions } from "./context";

// The command tree. Commander reports its own errors (unknown command, missing argument, bad
// value) on one line; exitOverride hands them to main.ts, which picks the exit code.

const EXIT_CODES_HELP = `
Exit codes:
  0    success
  1    the server answered with an error status, or serve/dev could not start
  2    bad command line (unknown command or option, bad JSON, bad duration)
  3    no server answered (refused, timed out, not a Resonate server)
  4    invoke --wait: the promise was rejected, canceled or timed out
  130  interrupted (Ctrl-C)`;

export function buildProgram(): Command {
  const program = new Command("resonate")
    .description("Run a Resonate-compatible server and talk to one (protocol 2026-04-01)")
    .exitOverride()
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({ outputError: (text, write) => write(`${oneLine(text)}\n`) })
    .addHelpText("after", EXIT_CODES_HELP);
  addGlobalOptions(program);
  for (const register of COMMANDS) register(program);
  return program;
}

/** Commander puts "(Did you mean …?)" on a line of its own; keep every error on one line. */
function oneLine(text: string): string {
  return text.trim().split("\n").map((line) => line.trim()).join(" ");
}
