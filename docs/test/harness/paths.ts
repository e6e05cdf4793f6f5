import { fileURLToPath } from "node:url";

/** docs/, with a trailing slash. */
export const docsRoot = fileURLToPath(new URL("../../", import.meta.url));
