// The code blocks of docs/guide/typed-clients.md, run in order (harness: test/harness/run.ts).
import { describePage } from "../harness/run.js";

describePage("guide/typed-clients.md");
