// The object a handler gets as `this` and every middleware hook as its first argument: the
// implementation of the public `CallContext` interface (call-context.ts) for one call.
import type { Clock, Peer } from "@zrpc/channel";
import type { Event, MessageId, WireHeader } from "@zrpc/wire";
import type { AbortableCall } from "./call-abort.js";
import type { CallContext as PublicCallContext } from "./call-context.js";
import type { FoundMethod } from "./dispatcher.js";
import type { MethodSpec } from "./registry.js";

/**
 * @internal The {@link PublicCallContext} of one call. `signal` and `locals` are made on first
 * use: most calls never look at them, and an AbortController with its EventTarget costs more than
 * the rest of the call's bookkeeping.
 *
 * A named class expression: its runtime name is `CallContext`, the interface it implements, so a
 * handler's stack frame reads `at CallContext.method` (V8 names a method frame after the class of
 * `this`), while no declaration in the source shadows the exported interface.
 */
export const ServerCallContext: new (
  call: AbortableCall,
  request: Event,
  args: readonly unknown[],
  found: FoundMethod | undefined,
) => PublicCallContext = class CallContext implements PublicCallContext {
  readonly method: string;
  readonly args: readonly unknown[];
  readonly header: Readonly<WireHeader>;
  readonly peer: Peer;
  readonly requestId: MessageId;
  readonly remoteVersion: number | undefined;
  readonly serverName: string;
  readonly spec: MethodSpec | undefined;
  readonly introspection: boolean;
  readonly deadline: number | undefined;
  readonly #call: AbortableCall;
  readonly #clock: Clock;
  #locals: Map<string | symbol, unknown> | undefined;

  /** The channel, the server and the deadline are read from `call`. */
  constructor(call: AbortableCall, request: Event, args: readonly unknown[], found: FoundMethod | undefined) {
    const { channel, dispatcher } = call;
    this.method = request.name;
    this.args = args;
    this.header = request.header;
    this.peer = channel.peer;
    this.requestId = channel.id;
    this.remoteVersion = channel.remoteVersion;
    this.serverName = dispatcher.serverName;
    this.spec = found?.spec;
    this.introspection = found?.introspection ?? false;
    this.deadline = call.deadline;
    this.#call = call;
    this.#clock = dispatcher.clock;
  }

  get signal(): AbortSignal {
    return this.#call.signal();
  }

  get locals(): Map<string | symbol, unknown> {
    return (this.#locals ??= new Map());
  }

  remainingMs(): number {
    const deadline = this.deadline;
    return deadline === undefined ? Number.POSITIVE_INFINITY : Math.max(0, deadline - this.#clock.now());
  }
};
