// The code blocks of docs/guide/security.md, run in order (harness: test/harness/run.ts).
import { describePage } from "../harness/run.js";

describePage("guide/security.md");
