import { connect } from "node:net";

/** Sends one command to HAProxy's runtime API (a unix socket) and returns the answer. */
export function haproxyCommand(socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let answer = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      answer += chunk;
    });
    // In this non-interactive mode HAProxy closes the connection after answering.
    socket.on("end", () => resolve(answer));
    socket.on("error", reject);
    socket.setTimeout(5000, () => socket.destroy(new Error(`HAProxy did not answer ${JSON.stringify(command)}`)));
    socket.write(`${command}\n`);
  });
}

export interface ProxyServerState {
  /** replica1, replica2, … in the order of the backends given to startProxy. */
  name: string;
  /** host:port */
  address: string;
  /** HAProxy's status: "UP", "DOWN", "MAINT", or in transition "UP 1/2", "DOWN 1/2", … */
  status: string;
}

/** The servers of a backend as `show stat` reports them. */
export async function serverStates(socketPath: string, backend: string): Promise<ProxyServerState[]> {
  const csv = await haproxyCommand(socketPath, "show stat");
  const [header, ...rows] = csv.trim().split("\n");
  const columns = (header ?? "").replace(/^# /, "").split(",");
  const column = (name: string) => {
    const index = columns.indexOf(name);
    if (index < 0) throw new Error(`HAProxy's show stat has no ${name} column`);
    return index;
  };
  const [proxy, server, status, address] = [column("pxname"), column("svname"), column("status"), column("addr")];
  return rows
    .map((row) => row.split(","))
    .filter((fields) => fields[proxy] === backend && fields[server] !== "BACKEND" && fields[server] !== "FRONTEND")
    .map((fields) => ({ name: fields[server]!, address: fields[address]!, status: fields[status]! }));
}
