// A test client of the channel (src/api/channel.ts): every frame kept, answers and messages parsed.

import { CHANNEL_SUBPROTOCOL, frameItems } from "@resonate-compat/protocol/channel";
import WebSocket from "ws";

export interface Channel {
  ws: WebSocket;
  /** Every frame received, as its items. */
  frames: string[][];
  answers: any[];
  messages: any[];
  /** Task.acquire answers the server sent for acquires it made on this process's behalf ("t" items). */
  acquired: any[];
  /** Sends the envelopes as one frame. */
  send(...envelopes: unknown[]): void;
  close(): Promise<void>;
}

/** `query`: the path's query, e.g. "?slots=1&ttl=5000" for eager acquires. */
export async function openChannel(url: string, group: string, pid: string, protocols: string[] = [CHANNEL_SUBPROTOCOL], headers: Record<string, string> = {}, query = ""): Promise<Channel> {
  const ws = new WebSocket(`${url.replace("http", "ws")}/ws/${group}/${pid}${query}`, protocols, { perMessageDeflate: false, headers });
  const channel: Channel = {
    ws,
    frames: [],
    answers: [],
    messages: [],
    acquired: [],
    send: (...envelopes) => ws.send(envelopes.map((e) => JSON.stringify(e)).join("\n")),
    close: () =>
      new Promise((resolve) => {
        if (ws.readyState === ws.CLOSED) return resolve();
        ws.once("close", () => resolve());
        ws.close();
      }),
  };
  ws.on("message", (data) => {
    const items = frameItems(data.toString());
    channel.frames.push(items);
    for (const item of items) {
      if (item[0] === "a") channel.answers.push(JSON.parse(item.slice(1)));
      else if (item[0] === "m") channel.messages.push(JSON.parse(item.slice(1)));
      else if (item[0] === "t") channel.acquired.push(JSON.parse(item.slice(1)));
      else throw new Error(`item without a known tag: ${item}`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return channel;
}

