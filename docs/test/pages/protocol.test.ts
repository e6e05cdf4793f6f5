// The code blocks of docs/guide/protocol.md, run in order (harness: test/harness/run.ts).
import { describePage } from "../harness/run.js";

describePage("guide/protocol.md");
