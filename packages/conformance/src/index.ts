// @zrpc/conformance (private): the TestService of docs/protocol/test-service.md on our server,
// and the checks that any TestService server must pass, run with our client.

// The TestService. Its contract (name, heartbeat, methods, the exact `types()` reply) is data in
// @zrpc/test-support, re-exported here; the server and the checks both read it from there, but the
// checks compare what comes over the wire against it, so a server bug cannot hide in it.
export { createTestService, createTestRegistry, pythonAdd, testTypesValue } from "./test-service.js";
export type { TestServiceOptions } from "./test-service.js";
export {
  TEST_SERVICE_NAME,
  TEST_SERVICE_HEARTBEAT_MS,
  TEST_METHODS,
  TEST_METHOD_NAMES,
  expectedTypesJson,
  patternBytes,
} from "@zrpc/test-support";
export type { TestMethodSpec } from "@zrpc/test-support";

// The transports it runs on (@zrpc/transport-zeromq or @zrpc/transport-zmtp), and its clients and
// server on either.
export {
  TRANSPORT_NAMES,
  DEFAULT_TRANSPORT,
  isTransportName,
  openTransport,
  transportFactory,
  connectClient,
  serveTestService,
} from "./transports.js";
export type {
  TransportName,
  EndpointTransport,
  OpenTransportOptions,
  ConnectClientOptions,
  ServedTestService,
} from "./transports.js";

// The checks and their runner.
export { createChecks, runChecks, runCheck } from "./checks.js";
export type { Check, CheckContext, CheckResult, RunChecksOptions } from "./checks.js";
export { CheckFailure } from "./assert.js";
export { rawCall } from "./raw-call.js";
export type { RawCallOptions, RawReply } from "./raw-call.js";

// One-way patterns (PUSH/PULL, PUB/SUB).
export { oneWayRound, callLine, expectedCallLines, PUBLISH_INTERVAL_MS } from "./one-way.js";
export type { OneWayCall } from "./one-way.js";

// Typed JSON (the vectors' spelling of msgpack values) and msgpack layouts.
export {
  toTypedJson,
  fromTypedJson,
  stringifyTypedJson,
  typedJsonEqual,
  describeValue,
  timestampExt,
  bytesToHex,
  hexToBytes,
} from "./typed-json.js";
export type { TypedJson } from "./typed-json.js";
export { msgpackLayout, eventArgsLayout, LayoutError } from "./msgpack-layout.js";
