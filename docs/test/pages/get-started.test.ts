// The code blocks of docs/guide/get-started.md, run in order (harness: test/harness/run.ts).
import { describePage } from "../harness/run.js";

describePage("guide/get-started.md");
