// One line per event on stdout, so people can read it and test harnesses can wait for it:
//   worker started job-1a2b cost=1200
// or, with --json, one JSON object per line (the marker format of the e2e harness):
//   {"event":"started","t":1767225600000,"role":"worker","pid":"…","id":"job-1a2b","cost":1200}

export function printer(role: "worker" | "client", json: boolean, pid: string) {
  return (event: string, fields: Record<string, unknown> = {}): void => {
    if (json) {
      console.log(JSON.stringify({ event, t: Date.now(), role, pid, ...fields }));
      return;
    }
    const { id, ...rest } = fields;
    const details = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
    console.log([role, event, ...(id === undefined ? [] : [String(id)]), ...details].join(" "));
  };
}
