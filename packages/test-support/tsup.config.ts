import { packageConfig } from "../../tsup.base.mjs";

// shims: the CJS build gets an `import.meta.url`, which the loaders use to find ../data.
export default packageConfig(["src/index.ts"], { shims: true });
