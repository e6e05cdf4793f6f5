import { packageConfig } from "../../tsup.base.mjs";

export default packageConfig(["src/index.ts", "src/pg.ts", "src/pglite.ts", "src/kysely.ts"]);
