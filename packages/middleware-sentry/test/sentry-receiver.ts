// A loopback Sentry: a node:http server that accepts the SDK's envelope POSTs
// (`/api/<project>/envelope/`), parses them (newline-delimited JSON, gzip when the SDK compressed
// the body) and lets tests wait for the items they expect, as they arrive.
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

/**
 * JSON sent by the SDK. Tests read it field by field and assert on each, so it is left untyped
 * rather than mirroring the SDK's event schema here.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
export type Json = any;

/** One item of an envelope: its header (`type`, `length`, ...) and its parsed payload. */
export interface EnvelopeItem {
  readonly type: string;
  readonly header: Record<string, unknown>;
  /** The payload parsed as JSON, or the raw text when it is not JSON (attachments). */
  readonly payload: Json;
}

/** One envelope as received. */
export interface Envelope {
  readonly path: string;
  readonly header: Record<string, unknown>;
  readonly items: readonly EnvelopeItem[];
}

/**
 * A finished span, whichever way the SDK sent it: @sentry/node 10 sends transactions (the root
 * span in `contexts.trace`, children in `spans`), 11 streams spans (`span` items of version 2,
 * attributes as `{ value, type }`). Tests read this shape so they pass on both.
 */
export interface ReceivedSpan {
  readonly name: string;
  readonly op: string | undefined;
  readonly trace_id: string;
  readonly span_id: string;
  readonly parent_span_id: string | undefined;
  /** `ok`, or the error status message (`internal_error`, `cancelled`, ...). */
  readonly status: string | undefined;
  /** The span's attributes. */
  readonly data: Record<string, unknown>;
  readonly start_timestamp: number;
  readonly timestamp: number;
}

function spansOf(item: EnvelopeItem): ReceivedSpan[] {
  const payload: Json = item.payload;
  if (item.type === "transaction") {
    const trace = payload.contexts?.trace ?? {};
    const root: ReceivedSpan = {
      name: payload.transaction,
      op: trace.op,
      trace_id: trace.trace_id,
      span_id: trace.span_id,
      parent_span_id: trace.parent_span_id,
      status: trace.status,
      data: trace.data ?? {},
      start_timestamp: payload.start_timestamp,
      timestamp: payload.timestamp,
    };
    const children = ((payload.spans ?? []) as Json[]).map(
      (span): ReceivedSpan => ({
        name: span.description,
        op: span.op,
        trace_id: span.trace_id,
        span_id: span.span_id,
        parent_span_id: span.parent_span_id,
        status: span.status,
        data: span.data ?? {},
        start_timestamp: span.start_timestamp,
        timestamp: span.timestamp,
      }),
    );
    return [root, ...children];
  }
  if (item.type === "span" && Array.isArray(payload?.items)) {
    return (payload.items as Json[]).map((span): ReceivedSpan => {
      const data = Object.fromEntries(
        Object.entries((span.attributes ?? {}) as Record<string, Json>).map(([key, attribute]) => [key, attribute?.value]),
      );
      return {
        name: span.name,
        op: data["sentry.op"] as string | undefined,
        trace_id: span.trace_id,
        span_id: span.span_id,
        parent_span_id: span.parent_span_id,
        status: span.status === "error" ? ((data["sentry.status.message"] as string | undefined) ?? "error") : span.status,
        data,
        start_timestamp: span.start_timestamp,
        timestamp: span.end_timestamp,
      };
    });
  }
  return [];
}

interface Waiter {
  readonly predicate: (item: EnvelopeItem) => boolean;
  readonly resolve: (item: EnvelopeItem) => void;
}

/**
 * Splits an envelope body: a header line, then for each item a header line and a payload (of
 * `length` bytes when the item header gives one, else up to the next newline).
 */
export function parseEnvelope(body: Buffer, path = ""): Envelope {
  let offset = 0;
  const readLine = (): Buffer => {
    let end = body.indexOf(0x0a, offset);
    if (end === -1) end = body.length;
    const line = body.subarray(offset, end);
    offset = end + 1;
    return line;
  };
  const header = JSON.parse(readLine().toString("utf8")) as Record<string, unknown>;
  const items: EnvelopeItem[] = [];
  while (offset < body.length) {
    const headerLine = readLine();
    if (headerLine.length === 0) continue;
    const itemHeader = JSON.parse(headerLine.toString("utf8")) as Record<string, unknown>;
    let raw: Buffer;
    if (typeof itemHeader.length === "number") {
      raw = body.subarray(offset, offset + itemHeader.length);
      offset += itemHeader.length + 1;
    } else {
      raw = readLine();
    }
    const text = raw.toString("utf8");
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      payload = text;
    }
    items.push({ type: String(itemHeader.type), header: itemHeader, payload });
  }
  return { path, header, items };
}

/** The loopback Sentry server. Start it with {@link SentryReceiver.start}. */
export class SentryReceiver {
  readonly envelopes: Envelope[] = [];
  /** Request bodies that could not be parsed, to fail loudly instead of waiting forever. */
  readonly failures: Error[] = [];
  private waiters: Waiter[] = [];

  private constructor(
    private readonly server: Server,
    /** The DSN to give the SDK: `http://abc123@127.0.0.1:PORT/42`. */
    readonly dsn: string,
  ) {}

  /** Listens on 127.0.0.1 on a free port. */
  static async start(): Promise<SentryReceiver> {
    const handlers: ((request: IncomingMessage, response: ServerResponse) => void)[] = [];
    const server = createServer((request, response) => handlers[0]!(request, response));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const receiver = new SentryReceiver(server, `http://abc123@127.0.0.1:${port}/42`);
    handlers.push((request, response) => receiver.handle(request, response));
    return receiver;
  }

  /** Every item received so far, optionally only those of one type (`event`, `transaction`, ...). */
  items(type?: string): EnvelopeItem[] {
    const all = this.envelopes.flatMap((envelope) => envelope.items);
    return type === undefined ? all : all.filter((item) => item.type === type);
  }

  /** Payloads of the `event` items (captured errors and messages). */
  events(): Json[] {
    return this.items("event").map((item) => item.payload);
  }

  /** Every finished span received, from transactions (SDK 10) or span items (SDK 11). */
  spans(): ReceivedSpan[] {
    return this.items().flatMap(spansOf);
  }

  /**
   * Resolves with the first item (already received or still to come) for which `predicate` holds.
   * Arrival is event-driven: the receiver wakes the waiter when the envelope comes in. `flush`
   * (the SDK's) is called to push out anything buffered. Rejects after `timeoutMs`, naming `what`.
   */
  waitFor(
    what: string,
    predicate: (item: EnvelopeItem) => boolean,
    options: { flush?: (timeoutMs: number) => PromiseLike<boolean>; timeoutMs?: number } = {},
  ): Promise<EnvelopeItem> {
    const found = this.items().find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise<EnvelopeItem>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== entry);
        const seen = this.items().map((item) => `${item.type}:${describe(item)}`);
        const shown = seen.length > 40 ? [`(${seen.length - 40} earlier)`, ...seen.slice(-40)] : seen;
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received ${JSON.stringify(shown)}`));
      }, timeoutMs);
      const entry: Waiter = {
        predicate,
        resolve: (item) => {
          clearTimeout(timer);
          resolve(item);
        },
      };
      this.waiters.push(entry);
      void options.flush?.(timeoutMs);
    });
  }

  /** Waits for an `event` item matching `predicate` and returns its payload. */
  async waitForEvent(what: string, predicate: (event: Json) => boolean, flush?: (timeoutMs: number) => PromiseLike<boolean>): Promise<Json> {
    const item = await this.waitFor(what, (candidate) => candidate.type === "event" && predicate(candidate.payload), { flush });
    return item.payload;
  }

  /** Waits for a span (from either envelope format) matching `predicate`. */
  async waitForSpan(
    what: string,
    predicate: (span: ReceivedSpan) => boolean,
    flush?: (timeoutMs: number) => PromiseLike<boolean>,
  ): Promise<ReceivedSpan> {
    const item = await this.waitFor(what, (candidate) => spansOf(candidate).some(predicate), { flush });
    return spansOf(item).find(predicate)!;
  }

  /** Stops listening. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
      try {
        let body = Buffer.concat(chunks);
        if (request.headers["content-encoding"] === "gzip") body = gunzipSync(body);
        this.receive(parseEnvelope(body, request.url ?? ""));
      } catch (error) {
        this.failures.push(error as Error);
      }
    });
  }

  private receive(envelope: Envelope): void {
    this.envelopes.push(envelope);
    for (const item of envelope.items) {
      const matched = this.waiters.filter((waiter) => waiter.predicate(item));
      if (matched.length === 0) continue;
      this.waiters = this.waiters.filter((waiter) => !matched.includes(waiter));
      for (const waiter of matched) waiter.resolve(item);
    }
  }
}

function describe(item: EnvelopeItem): string {
  const spans = spansOf(item);
  if (spans.length > 0) return spans.map((span) => `${span.op ?? ""} ${span.name}`).join(", ");
  const payload = item.payload as { exception?: { values?: { value?: unknown }[] }; message?: unknown } | undefined;
  if (payload === undefined || typeof payload !== "object") return "";
  const value = payload.exception?.values?.[0]?.value;
  if (typeof value === "string") return value;
  return typeof payload.message === "string" ? payload.message : "";
}
