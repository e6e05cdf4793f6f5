// `zrpc call --debug` / `zrpc inspect --debug`: every zerorpc event the client sends and receives,
// one line each on stderr, like zerorpc-python's `zerorpc -d`. Done by wrapping the transport
// factory, so it sees exactly what goes over the socket (heartbeats and `_zpc_more` credits
// included) without any hook in the client.
import type { OpenedTransport, TransportFactory } from "@zrpc/client";
import { decodeEvent, messageIdToString } from "@zrpc/wire";
import { formatJson } from "./json.js";

type Peer = Parameters<OpenedTransport["send"]>[0];
type ReceivingPeer = Parameters<Parameters<NonNullable<OpenedTransport["onMessage"]>>[0]>[0];
type TransportMessage = OpenedTransport extends AsyncIterable<infer T> ? T : never;

/** Longest argument summary printed, in characters; longer ones are cut with `…`. */
export const DEBUG_ARGS_LIMIT = 200;

function idText(value: unknown): string {
  if (typeof value === "string" || typeof value === "number" || typeof value === "bigint" || value instanceof Uint8Array) {
    return messageIdToString(value);
  }
  return formatJson(value);
}

function summary(value: unknown): string {
  let text: string;
  try {
    text = formatJson(value);
  } catch {
    text = String(value);
  }
  return text.length > DEBUG_ARGS_LIMIT ? `${text.slice(0, DEBUG_ARGS_LIMIT - 1)}…` : text;
}

/**
 * One line describing an encoded event: `--> add id=... args=[1,2]` for what is sent,
 * `<-- OK id=... response_to=... args=[3]` for what is received. A payload that does not decode
 * is shown as such, with its size.
 */
export function describePayload(direction: "send" | "receive", payload: Uint8Array): string {
  const arrow = direction === "send" ? "-->" : "<--";
  let event;
  try {
    event = decodeEvent(payload);
  } catch (error) {
    return `${arrow} (${payload.length} bytes that are not a zerorpc event: ${error instanceof Error ? error.message : String(error)})`;
  }
  const header = event.header as Record<string, unknown>;
  const parts = [arrow, event.name, `id=${idText(header.message_id)}`];
  if (header.response_to !== undefined) parts.push(`response_to=${idText(header.response_to)}`);
  const extra = Object.keys(header).filter((key) => key !== "message_id" && key !== "response_to" && key !== "v");
  for (const key of extra) parts.push(`${key}=${summary(header[key])}`);
  parts.push(`args=${summary(event.args)}`);
  return parts.join(" ");
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.length;
  }
  return joined;
}

/**
 * Wraps a transport so that every payload sent or received is described to `write` first. Any
 * other member of the transport (including ones this code does not know of) is passed through.
 */
function traceTransport(inner: OpenedTransport, write: (line: string) => void): OpenedTransport {
  const show = (direction: "send" | "receive", payload: Uint8Array): void => write(describePayload(direction, payload));
  return new Proxy(inner, {
    get(target, property) {
      switch (property) {
        case "send":
          return (peer: Peer | undefined, payload: Uint8Array): void => {
            show("send", payload);
            target.send(peer, payload);
          };
        case "sendChunks":
          if (target.sendChunks === undefined) return undefined;
          return (peer: Peer | undefined, chunks: readonly Uint8Array[]): void => {
            show("send", concat(chunks));
            target.sendChunks!(peer, chunks);
          };
        case "onMessage":
          if (target.onMessage === undefined) return undefined;
          return (listener: (peer: ReceivingPeer, payload: Uint8Array) => void): void => {
            target.onMessage!((peer, payload) => {
              show("receive", payload);
              listener(peer, payload);
            });
          };
        case Symbol.asyncIterator:
          return async function* (): AsyncGenerator<TransportMessage> {
            for await (const message of target) {
              show("receive", message.payload);
              yield message;
            }
          };
        default: {
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        }
      }
    },
  });
}

/** A transport factory whose transports describe every event to `write` (see {@link describePayload}). */
export function tracingFactory(factory: TransportFactory, write: (line: string) => void): TransportFactory {
  return {
    name: factory.name,
    async open(kind, how, endpoint, defaults) {
      return traceTransport(await factory.open(kind, how, endpoint, defaults), write);
    },
  };
}
