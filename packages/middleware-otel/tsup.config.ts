import { packageConfig } from "../../tsup.base.mjs";

export default packageConfig(["src/index.ts"]);
