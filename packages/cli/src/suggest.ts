// "Did you mean" for an unknown method: the server's methods ordered by how close their names are
// to the one typed.

/** Levenshtein distance between `a` and `b`, case-insensitive (one row of the table at a time). */
export function editDistance(a: string, b: string): number {
  const left = a.toLowerCase();
  const right = b.toLowerCase();
  let previous = Array.from({ length: right.length + 1 }, (_, index) => index);
  for (let i = 1; i <= left.length; i++) {
    const current = [i];
    for (let j = 1; j <= right.length; j++) {
      const substitution = previous[j - 1]! + (left[i - 1] === right[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[right.length]!;
}

/** Length of the common prefix of `a` and `b`, case-insensitive. */
export function sharedPrefix(a: string, b: string): number {
  const left = a.toLowerCase();
  const right = b.toLowerCase();
  let length = 0;
  while (length < left.length && length < right.length && left[length] === right[length]) length += 1;
  return length;
}

/** The closeness ranking of the method names. */
export interface Suggestions {
  /** Names close enough to be a likely typo (or a prefix of what was typed, or the reverse), closest first. */
  readonly close: readonly string[];
  /** Every name, closest first (ties by name). */
  readonly all: readonly string[];
}

/**
 * Ranks `names` by closeness to `typed`: smaller edit distance first, then longer shared prefix,
 * then by name. A name is "close" when its edit distance is at most a third of the longer name
 * (at least 1, at most 3), or when it shares a prefix of 3 or more characters with `typed`.
 */
export function suggestMethods(typed: string, names: readonly string[]): Suggestions {
  const ranked = [...new Set(names)]
    .filter((name) => name !== typed)
    .map((name) => ({ name, distance: editDistance(typed, name), prefix: sharedPrefix(typed, name) }))
    .sort((a, b) => a.distance - b.distance || b.prefix - a.prefix || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const close = ranked.filter(({ name, distance, prefix }) => {
    const limit = Math.min(3, Math.max(1, Math.floor(Math.max(typed.length, name.length) / 3)));
    return distance <= limit || prefix >= Math.min(3, typed.length);
  });
  return { close: close.map(({ name }) => name), all: ranked.map(({ name }) => name) };
}
