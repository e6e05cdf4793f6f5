// The checked-in expected-failures lists (expected-failures/*.json) and the judging of a run
// against one (STYLE.md section 5): a listed check that fails is an expected failure; a listed
// check that passes is a stale entry and fails the run, and so does a listed name that is not a
// check at all; a check that fails without being listed fails the run. An entry may name a `match`
// (a substring of the failure reason), so that a known failure that starts failing for another
// reason is not hidden by the entry.
import { readFileSync } from "node:fs";

/** One entry: a check known to fail against this peer, and why. */
export interface ExpectedFailure {
  /** The exact check name. */
  readonly check: string;
  /** Why it fails: the peer's defect, in a sentence. */
  readonly reason: string;
  /** A substring the failure reason must contain, or several of which it must contain one (optional). */
  readonly match?: string | readonly string[];
  /** Why the outcome depends on timing, for an entry that may also pass (optional). */
  readonly racy?: string;
}

/** One file: the peer, the direction, the entries. */
export interface ExpectedFailures {
  /** E.g. "zerorpc@0.9.8 (zerorpc-node), msgpack-lite@0.1.27". */
  readonly peer: string;
  /** E.g. "zrpc server <- zerorpc-node client". */
  readonly direction: string;
  readonly expectedFailures: readonly ExpectedFailure[];
}

/** The outcome of one check, from whichever runner ran it. */
export interface CheckOutcome {
  readonly check: string;
  readonly passed: boolean;
  readonly reason?: string;
}

export type VerdictKind = "passed" | "racy-passed" | "expected-failure" | "unexpected-failure" | "stale";

/** A check's outcome judged against the list. */
export interface Verdict {
  readonly check: string;
  readonly kind: VerdictKind;
  /** Why this verdict: the failure reason, or what is stale or unexpected about it. */
  readonly detail?: string;
  /** True when the verdict is acceptable (passed or expected failure). */
  readonly ok: boolean;
}

export interface Judgement {
  readonly verdicts: readonly Verdict[];
  /** Listed names that are not among the checks (stale too). */
  readonly unknownEntries: readonly string[];
  readonly passed: number;
  /** Racy entries whose check passed this time (counted in `passed` too). */
  readonly racyPassed: number;
  readonly expectedFailures: number;
  readonly unexpected: number;
  readonly stale: number;
}

function fail(file: string, message: string): never {
  throw new Error(`${file}: ${message}`);
}

/** Reads and validates an expected-failures file. */
export function loadExpectedFailures(file: string): ExpectedFailures {
  const data = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  if (typeof data.peer !== "string" || data.peer === "") fail(file, '"peer" must be a non-empty string');
  if (typeof data.direction !== "string" || data.direction === "") fail(file, '"direction" must be a non-empty string');
  if (!Array.isArray(data.expectedFailures)) fail(file, '"expectedFailures" must be an array');
  const seen = new Set<string>();
  const entries = (data.expectedFailures as unknown[]).map((raw, i): ExpectedFailure => {
    const entry = raw as Record<string, unknown>;
    if (typeof entry !== "object" || entry === null) fail(file, `entry #${i} is not an object`);
    const { check, reason, match, racy } = entry;
    if (typeof check !== "string" || check === "") fail(file, `entry #${i}: "check" must be a non-empty string`);
    if (typeof reason !== "string" || reason === "") fail(file, `entry "${check}": "reason" must be a non-empty string`);
    const matches = Array.isArray(match) ? (match as unknown[]) : [match];
    if (match !== undefined && (matches.length === 0 || !matches.every((item) => typeof item === "string" && item !== ""))) {
      fail(file, `entry "${check}": "match" must be a non-empty string or a non-empty list of them`);
    }
    if (racy !== undefined && (typeof racy !== "string" || racy === "")) fail(file, `entry "${check}": "racy" must be a non-empty string`);
    const extra = Object.keys(entry).filter((key) => !["check", "reason", "match", "racy"].includes(key));
    if (extra.length > 0) fail(file, `entry "${check}": unknown keys ${extra.join(", ")}`);
    if (seen.has(check)) fail(file, `entry "${check}" is listed twice`);
    seen.add(check);
    return {
      check,
      reason,
      ...(match === undefined ? {} : { match: match as string | string[] }),
      ...(racy === undefined ? {} : { racy }),
    };
  });
  return { peer: data.peer, direction: data.direction, expectedFailures: entries };
}

/** True when `reason` is how `entry` says its check fails (no `match`: any reason). */
export function matchesReason(entry: ExpectedFailure, reason: string): boolean {
  if (entry.match === undefined) return true;
  const matches: readonly string[] = typeof entry.match === "string" ? [entry.match] : entry.match;
  return matches.some((match) => reason.includes(match));
}

/**
 * Judges `outcomes` (one per check that ran) against `list`. `allChecks` is every check name of
 * the suite: a listed name outside it is an unknown (stale) entry. Checks that did not run are
 * not judged.
 */
export function judge(outcomes: readonly CheckOutcome[], list: ExpectedFailures, allChecks: readonly string[]): Judgement {
  const entries = new Map(list.expectedFailures.map((entry) => [entry.check, entry]));
  const verdicts = outcomes.map((outcome): Verdict => {
    const entry = entries.get(outcome.check);
    if (outcome.passed) {
      if (entry === undefined) return { check: outcome.check, kind: "passed", ok: true };
      if (entry.racy !== undefined) return { check: outcome.check, kind: "racy-passed", ok: true, detail: `racy entry, passed this time (${entry.racy})` };
      return { check: outcome.check, kind: "stale", ok: false, detail: `listed as an expected failure (${entry.reason}) but it passed: remove the entry` };
    }
    const reason = outcome.reason ?? "failed";
    if (entry === undefined) return { check: outcome.check, kind: "unexpected-failure", ok: false, detail: reason };
    if (!matchesReason(entry, reason)) {
      return {
        check: outcome.check,
        kind: "unexpected-failure",
        ok: false,
        detail: `failed, but not as listed (the reason lacks ${JSON.stringify(entry.match)}): ${reason}`,
      };
    }
    return { check: outcome.check, kind: "expected-failure", ok: true, detail: reason };
  });
  const known = new Set(allChecks);
  const unknownEntries = list.expectedFailures.map((entry) => entry.check).filter((name) => !known.has(name));
  const count = (kind: VerdictKind): number => verdicts.filter((verdict) => verdict.kind === kind).length;
  return {
    verdicts,
    unknownEntries,
    passed: count("passed") + count("racy-passed"),
    racyPassed: count("racy-passed"),
    expectedFailures: count("expected-failure"),
    unexpected: count("unexpected-failure"),
    stale: count("stale") + unknownEntries.length,
  };
}

/** The matrix line, e.g. "zrpc server <- zerorpc-node client: 70 passed, 17 expected failures, 0 unexpected". */
export function matrixLine(direction: string, judgement: Judgement): string {
  const stale = judgement.stale > 0 ? `, ${judgement.stale} stale` : "";
  const racy = judgement.racyPassed > 0 ? ` (${judgement.racyPassed} of the passed listed as racy)` : "";
  return `${direction}: ${judgement.passed} passed, ${judgement.expectedFailures} expected failures, ${judgement.unexpected} unexpected${stale}${racy}`;
}
