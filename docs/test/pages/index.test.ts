// The code blocks of docs/index.md, run in order (harness: test/harness/run.ts).
import { describePage } from "../harness/run.js";

describePage("index.md");
