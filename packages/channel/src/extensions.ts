// zrpc's wire extensions (docs/protocol/README.md, "zrpc extensions"): extra header keys and one
// extra channel event that zerorpc-python ignores. Only zrpc peers that announce them use them.

/**
 * Names of zrpc's wire extensions. Every one of them is an extra header key or an extra channel
 * event, which zerorpc-python tolerates (docs/protocol section 4.1: extra header keys are ignored
 * everywhere; an unknown event on an open channel is queued and never read).
 *
 * - `deadlineKey` (`"zrpc_deadline"`): request header key; the absolute time (Unix epoch
 *   milliseconds, an int) after which the client no longer waits for the first reply.
 * - `capsKey` (`"zrpc_caps"`): header key, an array of str. On a request: the extensions the
 *   client understands. On a server's `_zpc_hb` and first reply: the extensions the server
 *   accepts for that call.
 * - `cancelCap` (`"cancel"`): the capability to stop a call with `cancelEvent`.
 * - `cancelEvent` (`"_zrpc_cancel"`): client to server on an open channel, args `[reason]`
 *   (`"canceled"`, `"timeout"` or `"abandoned"`): stop the call; nothing more is sent for it.
 */
export const ZrpcExtensions = Object.freeze({
  deadlineKey: "zrpc_deadline",
  capsKey: "zrpc_caps",
  cancelCap: "cancel",
  cancelEvent: "_zrpc_cancel",
} as const);

/** The brand of `Float64` values of `@zrpc/wire`, shared by every loaded copy. */
const FLOAT64_BRAND = Symbol.for("zrpc.Float64");

/** Why a client cancels a call, sent as the only arg of `_zrpc_cancel`. */
export type CancelReason = "canceled" | "timeout" | "abandoned";

/**
 * The capabilities listed in a header's `zrpc_caps` (str or bin elements; anything else is
 * skipped), or `undefined` when the key is missing or not an array.
 */
export function readCaps(header: Readonly<Record<string, unknown>>): readonly string[] | undefined {
  const caps = header[ZrpcExtensions.capsKey];
  if (!Array.isArray(caps)) return undefined;
  const out: string[] = [];
  for (const cap of caps as unknown[]) {
    if (typeof cap === "string") out.push(cap);
    else if (cap instanceof Uint8Array) out.push(new TextDecoder().decode(cap));
  }
  return out;
}

/**
 * The deadline in a header's `zrpc_deadline` as Unix epoch milliseconds, or `undefined` when it is
 * missing or not a positive finite number (an int, a bigint, or a float).
 */
export function readDeadline(header: Readonly<Record<string, unknown>>): number | undefined {
  const raw = header[ZrpcExtensions.deadlineKey];
  let value: number;
  if (typeof raw === "number") value = raw;
  else if (typeof raw === "bigint") value = Number(raw);
  else if (typeof raw === "object" && raw !== null && (raw as Record<symbol, unknown>)[FLOAT64_BRAND] === true) {
    // A Float64 of @zrpc/wire (any loaded copy): a float deadline sent by another implementation.
    value = (raw as { value: number }).value;
  } else return undefined;
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/** The reason carried by a `_zrpc_cancel` event's args; unknown values read as `"canceled"`. */
export function readCancelReason(args: unknown): CancelReason {
  const reason = Array.isArray(args) ? (args[0] as unknown) : args;
  return reason === "timeout" || reason === "abandoned" ? reason : "canceled";
}
