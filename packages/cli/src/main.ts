import { CommanderError } from "commander";
import { CliError, EXIT } from "./errors";
import { buildProgram } from "./program";

// Entry point: run one command, turn any failure into one line on stderr and an exit code
// (listed in errors.ts and in `resonate --help`). No stack traces reach the user.

async function main(): Promise<number> {
  try {
    await buildProgram().parseAsync(process.argv);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed its message (or the help) already.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`error: ${message.split("\n")[0]}\n`);
    return error instanceof CliError ? error.exitCode : EXIT.failed;
  }
}

// `resonate … | head -1`: a reader that has seen enough is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(EXIT.ok);
  throw error;
});

// Exit explicitly: an idle keep-alive socket of fetch must not hold the process for seconds.
const code = await main();
process.exit(code);
