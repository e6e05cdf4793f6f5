// The code blocks of docs/guide/migrate-from-node.md, run in order (harness: test/harness/run.ts).
import { describePage } from "../harness/run.js";

describePage("guide/migrate-from-node.md");
