// Turns call data into small, JSON-safe text for Sentry: argument summaries with a size cap,
// message ids as text, routing ids as hex.

/** Limits of the argument summary in the `zerorpc` event context. */
export interface ArgsSummaryOptions {
  /** Strings longer than this are cut, with the number of characters left out. Default 200. */
  readonly maxStringLength?: number;
  /** Arrays, maps and objects show at most this many entries. Default 20. */
  readonly maxItems?: number;
  /**
   * How many levels of nested arrays / maps / objects are shown inside one argument; deeper ones
   * are described by type and size only. Default 1 (an argument's own entries), which stays within
   * the SDK's default `normalizeDepth` of 3.
   */
  readonly maxDepth?: number;
  /**
   * The summary of all arguments together stays within this many bytes of JSON: arguments past
   * the budget are described by type and size only, and if even that does not fit they are
   * counted in `args_omitted`. Default 2048.
   */
  readonly maxBytes?: number;
  /**
   * Map and object keys whose values are replaced by `"[Filtered]"`. Default:
   * {@link DEFAULT_REDACT_KEYS}. `null` redacts nothing by key (the `scrub` hook still runs).
   */
  readonly redactKeys?: RegExp | null;
}

/** Keys that usually hold secrets. */
export const DEFAULT_REDACT_KEYS = /pass(word|wd)?|secret|token|api[-_]?key|auth|credential|cookie|session|private[-_]?key/i;

/** What the summary of a call's arguments puts in the `zerorpc` context. */
export interface ArgsSummary {
  /** One summary per argument, in order (up to the byte budget). */
  readonly args: unknown[];
  /** Total number of arguments. */
  readonly args_count: number;
  /** True when some arguments were reduced to type and size to stay within `maxBytes`. */
  readonly args_truncated?: true;
  /** Arguments left out entirely (the budget could not hold even their description). */
  readonly args_omitted?: number;
}

const FILTERED = "[Filtered]";

interface Limits {
  readonly maxStringLength: number;
  readonly maxItems: number;
  readonly maxDepth: number;
  readonly maxBytes: number;
  readonly redactKeys: RegExp | null;
}

function limitsOf(options: ArgsSummaryOptions): Limits {
  return {
    maxStringLength: options.maxStringLength ?? 200,
    maxItems: options.maxItems ?? 20,
    maxDepth: options.maxDepth ?? 1,
    maxBytes: options.maxBytes ?? 2048,
    redactKeys: options.redactKeys === undefined ? DEFAULT_REDACT_KEYS : options.redactKeys,
  };
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A wire `Float64` or `Ext` (from `@zrpc/wire`), recognised by shape: we import nothing from zrpc. */
function wireValue(value: object): { float: number } | { ext: number; bytes: number } | undefined {
  const name = (value.constructor as { name?: unknown } | undefined)?.name;
  const fields = value as { value?: unknown; type?: unknown; data?: unknown };
  if (name === "Float64" && typeof fields.value === "number") return { float: fields.value };
  if (name === "Ext" && typeof fields.type === "number" && fields.data instanceof Uint8Array) {
    return { ext: fields.type, bytes: fields.data.length };
  }
  return undefined;
}

/** Type and size only: what an argument becomes when the budget or depth runs out. */
export function describeValue(value: unknown): string {
  if (value === null) return "<nil>";
  switch (typeof value) {
    case "undefined":
      return "<nil>";
    case "string":
      return `<str ${value.length} chars>`;
    case "number":
      return Number.isInteger(value) ? "<int>" : "<float>";
    case "bigint":
      return "<int>";
    case "boolean":
      return "<bool>";
    case "function":
      return "<function>";
    case "symbol":
      return "<symbol>";
    case "object":
      break;
  }
  if (value instanceof Uint8Array) return `<bin ${value.length} bytes>`;
  if (Array.isArray(value)) return `<array ${value.length} items>`;
  if (value instanceof Map) return `<map ${value.size} keys>`;
  const wire = wireValue(value);
  if (wire !== undefined) return "float" in wire ? "<float>" : `<ext type ${wire.ext}, ${wire.bytes} bytes>`;
  if (isPlainObject(value)) return `<map ${Object.keys(value).length} keys>`;
  const name = (value.constructor as { name?: unknown } | undefined)?.name;
  return `<${typeof name === "string" && name !== "" ? name : "object"}>`;
}

function summarizeString(value: string, limits: Limits): string {
  if (value.length <= limits.maxStringLength) return value;
  return `${value.slice(0, limits.maxStringLength)}...[+${value.length - limits.maxStringLength} chars]`;
}

function summarizeEntries(entries: Iterable<[unknown, unknown]>, size: number, limits: Limits, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let shown = 0;
  for (const [key, item] of entries) {
    if (shown >= limits.maxItems) break;
    const name = typeof key === "string" ? key : summarizeString(String(summarizeValue(key, limits, 0)), limits);
    // "__proto__" as an own key would be lost (or change the prototype) in a plain object.
    const safeName = name === "__proto__" ? "[__proto__]" : name;
    out[safeName] = limits.redactKeys !== null && limits.redactKeys.test(name) ? FILTERED : summarizeValue(item, limits, depth - 1);
    shown += 1;
  }
  if (size > shown) out["..."] = `+${size - shown} keys`;
  return out;
}

/** A JSON-safe summary of one value, `depth` levels of containers deep. */
function summarizeValue(value: unknown, limits: Limits, depth: number): unknown {
  if (value === null) return null;
  switch (typeof value) {
    case "undefined":
      return null;
    case "string":
      return summarizeString(value, limits);
    case "number":
      return Number.isFinite(value) ? value : String(value);
    case "boolean":
      return value;
    case "bigint":
      return value.toString();
    case "function":
    case "symbol":
      return describeValue(value);
    case "object":
      break;
  }
  if (value instanceof Uint8Array) return describeValue(value);
  const wire = wireValue(value);
  if (wire !== undefined) return "float" in wire ? wire.float : describeValue(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "<Date invalid>" : value.toISOString();
  const isMap = value instanceof Map;
  if (!Array.isArray(value) && !isMap && !isPlainObject(value)) return describeValue(value);
  if (depth <= 0) return describeValue(value);
  if (Array.isArray(value)) {
    const items = (value as unknown[]).slice(0, limits.maxItems).map((item) => summarizeValue(item, limits, depth - 1));
    if (value.length > limits.maxItems) items.push(`...[+${value.length - limits.maxItems} items]`);
    return items;
  }
  if (isMap) return summarizeEntries(value as Map<unknown, unknown>, value.size, limits, depth);
  const record = value;
  const keys = Object.keys(record);
  return summarizeEntries(
    keys.map((key) => [key, record[key]] as [unknown, unknown]),
    keys.length,
    limits,
    depth,
  );
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? "null", "utf8");
}

/**
 * Summarises a call's arguments for an event context: scalars as they are, long strings cut,
 * binary data and deep containers as type and size, secrets (by key) filtered, and the whole
 * within `maxBytes` of JSON.
 */
export function summarizeArgs(args: readonly unknown[], options: ArgsSummaryOptions = {}): ArgsSummary {
  const limits = limitsOf(options);
  const summaries: unknown[] = [];
  // The enclosing `[...]` and the commas count against the budget too.
  let used = 2;
  let truncated = false;
  let omitted = 0;
  for (const arg of args) {
    if (omitted > 0) {
      omitted += 1;
      continue;
    }
    let summary = summarizeValue(arg, limits, limits.maxDepth);
    let size = jsonBytes(summary) + (summaries.length > 0 ? 1 : 0);
    if (used + size > limits.maxBytes) {
      truncated = true;
      summary = describeValue(arg);
      size = jsonBytes(summary) + (summaries.length > 0 ? 1 : 0);
      if (used + size > limits.maxBytes) {
        omitted = 1;
        continue;
      }
    }
    used += size;
    summaries.push(summary);
  }
  return {
    args: summaries,
    args_count: args.length,
    ...(truncated ? { args_truncated: true as const } : {}),
    ...(omitted > 0 ? { args_omitted: omitted } : {}),
  };
}

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += HEX[byte]!;
  return out;
}

/**
 * A message id as text: zerorpc-python's ids are 32 ASCII hex digits sent as bin, shown as those
 * digits; other printable-ASCII bin as its text; any other bin as hex; str and numbers as they are.
 */
export function messageIdText(id: unknown): string {
  if (id instanceof Uint8Array) {
    for (const byte of id) if (byte < 0x20 || byte > 0x7e) return toHex(id);
    return String.fromCharCode(...id);
  }
  if (typeof id === "string") return id;
  if (typeof id === "number" || typeof id === "bigint") return id.toString();
  return String(id);
}

/**
 * A peer as text: the hex of its ZeroMQ routing frames joined with "." (a ROUTER's routing id is
 * binary, often starting with a zero byte); `key` when the transport has no routing frames
 * (in-memory transports); `undefined` when neither says anything.
 */
export function peerText(peer: { readonly key?: string; readonly envelope?: readonly Uint8Array[] } | undefined): string | undefined {
  if (peer === undefined) return undefined;
  const envelope = peer.envelope ?? [];
  if (envelope.length > 0) return envelope.map(toHex).join(".");
  return peer.key !== undefined && peer.key !== "" ? peer.key : undefined;
}
