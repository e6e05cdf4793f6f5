// The code blocks of docs/guide/observability.md, run in order (harness: test/harness/run.ts).
import { describePage } from "../harness/run.js";

describePage("guide/observability.md");
