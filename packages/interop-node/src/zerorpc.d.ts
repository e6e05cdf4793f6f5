// Types for the parts of zerorpc-node 0.9.8 (npm `zerorpc`, plain CommonJS, no types) used here.
declare module "zerorpc" {
  import type { EventEmitter } from "node:events";

  /** The callback of `invoke`: once per reply event; `more` is true for each stream item. */
  export type InvokeCallback = (error: ZerorpcError | undefined, value: unknown, more: boolean) => void;

  /** An error as zerorpc-node's client builds it from an ERR event (or a timeout, lost heartbeat). */
  export interface ZerorpcError extends Error {
    name: string;
    message: string;
    stack?: string;
  }

  /** What a server method gets as its last argument: `reply(error)`, `reply(null, value)`, `reply(null, item, true)`. */
  export type Reply = (error: unknown, value?: unknown, more?: boolean) => void;

  export interface ClientOptions {
    /** Seconds to wait for the first reply (default 30). */
    timeout?: number;
    /** Heartbeat interval in ms (default 5000). */
    heartbeatInterval?: number;
  }

  export class Client extends EventEmitter {
    constructor(options?: ClientOptions);
    connect(endpoint: string): void;
    bind(endpoint: string): void;
    close(linger?: number): void;
    closed(): boolean;
    /** `invoke([options,] method, ...args, callback)`; options: `{ timeout: seconds }`. */
    invoke(...args: unknown[]): void;
  }

  export class Server extends EventEmitter {
    /** Serves the `function` properties of `context` not starting with "_"; heartbeat in ms (default 5000). */
    constructor(context: object, heartbeat?: number);
    bind(endpoint: string): void;
    connect(endpoint: string): void;
    close(): void;
    closed(): boolean;
  }
}
