// The one-way patterns of docs/protocol/test-service.md (PUSH/PULL, PUB/SUB): what a sender sends, and how a
// receiver reports what it got (`CALL {"name": ..., "args": ...}` in typed JSON).
import type { Event, WireValue } from "@zrpc/wire";
import { stringifyTypedJson, toTypedJson } from "./typed-json.js";

/** One event of the sender's round: a method name and its positional arguments. */
export interface OneWayCall {
  readonly name: string;
  readonly args: readonly WireValue[];
}

/**
 * The round a sender sends, in order (docs/protocol/test-service.md "One-way patterns"):
 * `echo("pushed")`, `add(1, 2)`, `echo({"k": [nil, true, 1.5, bin(00 ff), "\u2603"]})`.
 */
export function oneWayRound(): OneWayCall[] {
  return [
    { name: "echo", args: ["pushed"] },
    { name: "add", args: [1, 2] },
    { name: "echo", args: [{ k: [null, true, 1.5, Uint8Array.of(0x00, 0xff), "\u2603"] }] },
  ];
}

/** The `CALL ...` line a receiver prints for an event: `CALL {"name": ..., "args": ...}` in typed JSON. */
export function callLine(event: Pick<Event, "name" | "args">): string {
  return `CALL ${stringifyTypedJson({ name: event.name, args: toTypedJson(event.args) })}`;
}

/** The three lines a receiver prints for one round, in order. */
export function expectedCallLines(): string[] {
  return oneWayRound().map((call) => callLine(call));
}

/** How often a publisher repeats the round, in ms: a subscriber may miss the first ones. */
export const PUBLISH_INTERVAL_MS = 200;
