// The code blocks of docs/guide/cli.md, run in order (harness: test/harness/run.ts).
import { describePage } from "../harness/run.js";

describePage("guide/cli.md");
