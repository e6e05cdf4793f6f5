// Where the vendored data lives: `data/` at the root of this package. The source (src/) and the
// build (dist/) both sit one level below it, so one relative URL serves tests of this package
// (run on src) and every other package's tests (run on dist). No walking up, no environment.
import { fileURLToPath } from "node:url";

/** The absolute path of this package's `data/` folder (ends without a separator). */
export const DATA_DIR: string = fileURLToPath(new URL("../data", import.meta.url));

/** The absolute path of the golden transcripts (`data/vectors`). */
export const VECTORS_DIR: string = fileURLToPath(new URL("../data/vectors", import.meta.url));
