// Options of one call (`call`, `stream`, `invoke`). Their own module so that the middleware
// contract (middleware.ts) and the client's options (options.ts, which lists middlewares) both
// depend on it without depending on each other.

/** Options of one call (`call`, `stream`, `invoke`). */
export interface CallOptions {
  /**
   * Milliseconds to wait for the **first** reply (`OK`, `ERR`, the first `STREAM` or
   * `STREAM_DONE`); later stream items have no timeout, only the heartbeat ends a stalled stream
   * (docs/protocol section 9). Overrides the client's `timeoutMs`; `<= 0` disables the timeout for
   * this call. On expiry the call rejects with `TimeoutExpired` and is closed locally (nothing is
   * sent; the server learns through missing heartbeats).
   */
  readonly timeoutMs?: number;
  /**
   * An absolute deadline for the first reply (a `Date`, or Unix epoch milliseconds), for passing
   * the time left on from one call to the next (`{ deadline: call.deadline }` in a server
   * handler). The call waits until this deadline or `timeoutMs`, whichever comes first, and then
   * fails with `TimeoutExpired`; a deadline already past fails at once without sending anything.
   * An explicit deadline is always sent to the server as `zrpc_deadline` (see
   * `ClientOptions.extensions`).
   */
  readonly deadline?: number | Date;
  /**
   * Abort to cancel: the call rejects (or the stream iteration throws) with a `CanceledError`
   * (code `"canceled"`, the abort reason as `cause`) and the call is closed locally. With the
   * `"cancel"` extension and a zrpc server that announced it, `_zrpc_cancel` tells the server to
   * stop the handler; otherwise nothing is sent and the server notices through the missing
   * heartbeats. An already aborted signal rejects without sending the request.
   */
  readonly signal?: AbortSignal;
  /**
   * Extra header keys for the request event (task context, e.g. tracing ids). Merged before the
   * middlewares' `beforeRequest`. `message_id`, `v` and `response_to` are reserved and ignored.
   */
  readonly header?: Readonly<Record<string, unknown>>;
  /**
   * Receive buffer `B` of this call (zerorpc-python's `slots=`): how many stream items the server
   * may have in flight; decides the `_zpc_more` grants (docs/protocol section 8). Defaults to the
   * client's `receiveBuffer`. An integer >= 2.
   */
  readonly receiveBuffer?: number;
}
