// What the TestService contract (docs/protocol/test-service.md) fixes, written down once as data
// in @zrpc/test-support: the name, the heartbeat, the methods with their argument names and exact
// docstrings, and the exact reply of `types()` in typed JSON. The server (test-service.ts) and the
// checks (checks.ts) both read it, but the checks compare what comes over the wire against it, so
// a server bug cannot hide here.
export {
  TEST_SERVICE_NAME,
  TEST_SERVICE_HEARTBEAT_MS,
  TEST_METHODS,
  TEST_METHOD_NAMES,
  expectedTypesJson,
  patternBytes,
} from "@zrpc/test-support";
export type { TestMethodSpec } from "@zrpc/test-support";
