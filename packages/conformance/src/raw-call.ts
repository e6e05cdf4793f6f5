// A wire-level tap for the checks that must see bytes, not decoded values: one request sent on a
// plain DEALER transport, the reply payload returned as received. It does no heartbeating, so it
// is only for calls that are answered well within two heartbeat intervals.
import { PROTOCOL_VERSION, decodeEvent, encodeEvent, newMessageId } from "@zrpc/wire";
import type { Event, MessageId } from "@zrpc/wire";
import { DEFAULT_TRANSPORT, openTransport } from "./transports.js";
import type { TransportName } from "./transports.js";

/** What {@link rawCall} sends. */
export interface RawCallOptions {
  /** Extra header keys for the request. */
  readonly header?: Readonly<Record<string, unknown>>;
  /** The request's message id; default a fresh Python-style one (32 hex digits as bin). */
  readonly messageId?: MessageId;
  /** Milliseconds to wait for the first reply event (heartbeats excluded). Default 10 s. */
  readonly timeoutMs?: number;
  /** The transport of the DEALER: `"zeromq"` (default) or `"zmtp"`. */
  readonly transport?: TransportName;
}

/** The first non-heartbeat reply to a {@link rawCall} request. */
export interface RawReply {
  /** The request as sent. */
  readonly request: Uint8Array;
  /** The id the request carried. */
  readonly messageId: MessageId;
  /** The reply payload exactly as received. */
  readonly payload: Uint8Array;
  /** The reply, decoded. */
  readonly event: Event;
}

/**
 * Sends `name(args)` on a fresh DEALER connected to `endpoint` and resolves with the first reply
 * event that is not a heartbeat. Rejects on timeout or when the reply cannot be decoded.
 */
export async function rawCall(endpoint: string, name: string, args: unknown, options: RawCallOptions = {}): Promise<RawReply> {
  const transport = await openTransport(options.transport ?? DEFAULT_TRANSPORT, "dealer", { connect: endpoint, linger: 0 });
  const messageId = options.messageId ?? newMessageId();
  const request = encodeEvent({ header: { ...options.header, message_id: messageId, v: PROTOCOL_VERSION }, name, args });
  const timeoutMs = options.timeoutMs ?? 10_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    transport.send(undefined, request);
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no reply to ${name} within ${timeoutMs} ms`)), timeoutMs);
    });
    const reply = (async (): Promise<RawReply> => {
      for await (const message of transport) {
        const event = decodeEvent(message.payload);
        if (event.name === "_zpc_hb") continue;
        return { request, messageId, payload: message.payload, event };
      }
      throw new Error("transport closed before a reply arrived");
    })();
    return await Promise.race([reply, expired]);
  } finally {
    clearTimeout(timer);
    await transport.close();
  }
}
