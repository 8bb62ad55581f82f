// Where output goes: results to stdout (JSON with --json, text otherwise), notes to stderr so that
// they never mix with what a script reads.

export class Printer {
  constructor(readonly json: boolean) {}

  /** A command's result: `data` as JSON under --json, else the text `human()` makes. */
  result(data: unknown, human: () => string): void {
    process.stdout.write(`${this.json ? JSON.stringify(data, null, 2) : human()}\n`);
  }

  /** Progress and warnings, for a person watching; never part of the result. */
  note(text: string): void {
    process.stderr.write(`${text}\n`);
  }
}
