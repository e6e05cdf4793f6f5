import { describe, expect, it } from "vitest";
import { Progress } from "../src/progress.js";

function fakeStream(): { text: string[]; write(text: string): boolean } {
  const text: string[] = [];
  return { text, write: (chunk: string) => text.push(chunk) > 0 };
}

describe("Progress", () => {
  it("writes nothing when disabled (stderr is not a terminal, or --quiet)", () => {
    const stream = fakeStream();
    const progress = new Progress(stream, false);
    progress.start("calling x");
    progress.update("3 items");
    progress.clear();
    progress.stop();
    expect(stream.text).toEqual([]);
  });

  it("draws a spinner line, clears it for output and erases it at the end", () => {
    const stream = fakeStream();
    const progress = new Progress(stream, true);
    progress.start("calling ticket_list on tcp://127.0.0.1:4242");
    const line = stream.text.at(-1)!;
    expect(line.startsWith("\r\u001b[K")).toBe(true);
    expect(line.slice(4)).toMatch(/^\S calling ticket_list on tcp:\/\/127\.0\.0\.1:4242$/);
    progress.clear();
    expect(stream.text.at(-1)).toBe("\r\x1b[K");
    progress.stop();
    const count = stream.text.length;
    progress.stop();
    expect(stream.text.length).toBe(count);
  });
});
