// Fifo: first in first out, with unshift (one item back to the head) and unshiftAll.
import { describe, expect, it } from "vitest";
import { Fifo } from "@zrpc/channel";

function drain<T>(fifo: Fifo<T>): T[] {
  const out: T[] = [];
  for (let item = fifo.shift(); item !== undefined; item = fifo.shift()) out.push(item);
  return out;
}

describe("Fifo", () => {
  it("shifts in push order, peeks the head, and is empty after", () => {
    const fifo = new Fifo<number>();
    for (let i = 1; i <= 3; i++) fifo.push(i);
    expect(fifo.peek()).toBe(1);
    expect(fifo.length).toBe(3);
    expect(drain(fifo)).toEqual([1, 2, 3]);
    expect(fifo.length).toBe(0);
    expect(fifo.peek()).toBeUndefined();
    expect(fifo.shift()).toBeUndefined();
  });

  it("unshift puts one item at the head, on an empty queue, a fresh one, and after shifts", () => {
    const fifo = new Fifo<string>();
    fifo.unshift("a");
    expect(fifo.peek()).toBe("a");
    fifo.push("b");
    fifo.push("c");
    fifo.unshift("z"); // head at 0: the array grows at the front
    expect(fifo.length).toBe(4);
    expect(fifo.shift()).toBe("z");
    expect(fifo.shift()).toBe("a");
    fifo.unshift("y"); // head past 0: the freed slot is reused
    fifo.unshift("x");
    expect(fifo.length).toBe(4);
    expect(drain(fifo)).toEqual(["x", "y", "b", "c"]);
  });

  it("keeps its order across the compaction of a long queue", () => {
    const fifo = new Fifo<number>();
    for (let i = 0; i < 5000; i++) fifo.push(i);
    for (let i = 0; i < 3000; i++) expect(fifo.shift()).toBe(i);
    fifo.unshift(2999);
    fifo.unshiftAll([2997, 2998]);
    expect(fifo.length).toBe(2003);
    const rest = drain(fifo);
    expect(rest[0]).toBe(2997);
    expect(rest.at(-1)).toBe(4999);
    expect(rest).toEqual(Array.from({ length: 2003 }, (_, i) => 2997 + i));
  });

  it("clear drops everything", () => {
    const fifo = new Fifo<number>();
    fifo.push(1);
    fifo.unshift(0);
    fifo.clear();
    expect(fifo.length).toBe(0);
    expect(fifo.shift()).toBeUndefined();
  });
});
