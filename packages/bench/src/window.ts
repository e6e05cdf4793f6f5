// With `--profile` (BENCH_PROFILE_DIR set), each child profiles exactly its measured window with
// V8's CPU profiler through node:inspector and writes `<role>.cpuprofile` (the format of
// `node --cpu-prof`). Not `--cpu-prof` itself: in these forked children it records the work driven
// by socket callbacks after the IPC "go" as "(idle)" (Node 20), and it would include start-up and
// warm-up too.
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { join } from "node:path";

export interface ProfileWindow {
  /** Starts profiling (no-op when not profiling). */
  start(): Promise<void>;
  /** Stops profiling and writes the profile (no-op when not profiling or not started). */
  end(): Promise<void>;
}

/** Sampling interval in µs (`node --cpu-prof` uses 1000). */
const INTERVAL_US = 250;

export function profileWindow(role: "server" | "client"): ProfileWindow {
  const dir = process.env.BENCH_PROFILE_DIR;
  let session: Session | undefined;
  return {
    start: async () => {
      if (dir === undefined || dir === "" || session !== undefined) return;
      session = new Session();
      session.connect();
      await session.post("Profiler.enable");
      await session.post("Profiler.setSamplingInterval", { interval: INTERVAL_US });
      await session.post("Profiler.start");
    },
    end: async () => {
      if (dir === undefined || session === undefined) return;
      const { profile } = await session.post("Profiler.stop");
      session.disconnect();
      session = undefined;
      writeFileSync(join(dir, `${role}.cpuprofile`), JSON.stringify(profile));
    },
  };
}
