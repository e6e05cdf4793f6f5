// Typed JSON (the notation of @zrpc/test-support: `{ $int }`, `{ $f64 }`, `{ $bin }`, `{ $ext }`,
// `{ $map }` beside plain JSON) turned into the JS values a zerorpc-node program deals in. How each
// tag becomes a JS value depends on the direction (what msgpack-lite can send differs from what it
// gives back), so callers pass one conversion per tag; the walk over arrays and maps is here.
import type { TypedJson } from "@zrpc/test-support";

/** The tags of typed JSON. */
export type TypedJsonTag = "$int" | "$f64" | "$bin" | "$ext" | "$map";

/** One conversion per tag: the tag's payload, and the converter to use on nested values. */
export type TypedJsonTags = Readonly<Record<TypedJsonTag, (inner: TypedJson, convert: (json: TypedJson) => unknown) => unknown>>;

const TAGS: ReadonlySet<string> = new Set<TypedJsonTag>(["$int", "$f64", "$bin", "$ext", "$map"]);

/** `json` as JS values: arrays and str-keyed maps as they are, tagged values through `tags`. */
export function typedJsonToJs(json: TypedJson, tags: TypedJsonTags): unknown {
  const convert = (value: TypedJson): unknown => {
    if (value === null || typeof value !== "object") return value;
    if (Array.isArray(value)) return value.map(convert);
    const keys = Object.keys(value);
    const tag = keys[0];
    if (keys.length === 1 && tag !== undefined && TAGS.has(tag)) return tags[tag as TypedJsonTag](value[tag]!, convert);
    return Object.fromEntries(keys.map((key) => [key, convert(value[key]!)]));
  };
  return convert(json);
}
