import type { Command } from "commander";
import { registerHistory } from "./history";
import { registerInvoke } from "./invoke";
import { registerPromises } from "./promises";
import { registerSchedules } from "./schedules";
import { registerServe } from "./serve";
import { registerTasks } from "./tasks";
import { registerTree } from "./tree";
import { registerWorkers } from "./workers";

// Every command group of the CLI, in the order `resonate --help` lists them. A new group is a file
// in this folder exporting register<Name>(program) and one line here.

export const COMMANDS: ((program: Command) => void)[] = [
  registerServe,
  registerPromises,
  registerTasks,
  registerSchedules,
  registerInvoke,
  registerTree,
  registerWorkers,
  registerHistory,
];
