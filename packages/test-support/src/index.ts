// @zrpc/test-support (private, never published): what every zrpc package's tests share.

// The golden transcripts recorded from zerorpc-python, and the probes.
export { listVectors, loadVector, loadVectors, loadProbes, payloadFrame } from "./vectors.js";
export type { Probe, Probes, TypedJson, Vector, VectorEvent, VectorFrame, VectorMessage, ZmtpPart } from "./vectors.js";
export { DATA_DIR, VECTORS_DIR } from "./paths.js";

// Bytes.
export { bufferFromHex, fromHex, toHex } from "./hex.js";
export { patternBytes, pseudoRandomBytes, seededRandom } from "./bytes.js";

// Loopback ports.
export { freeEndpoint, freePort } from "./ports.js";

// Promises.
export { deferred, flushMicrotasks, timedRejection } from "./deferred.js";
export type { Deferred } from "./deferred.js";

// Peers that are not zerorpc servers, and a transport's connection events.
export { HTTP_BAD_REQUEST, answerLikeHttp, startTcpStub, watchConnectionEvents } from "./stub-peers.js";
export type { ConnectionEventWatch, ConnectionWatchable, TcpStub } from "./stub-peers.js";

// What a test opened, and reading async iterables.
export { Resources, reader, utf8, utf8Text } from "./resources.js";
export type { Closable, Reader } from "./resources.js";

// Child processes.
export { startNode, startProcess, stopAllProcesses, stopProcess } from "./process.js";
export type { ChildHandle, OutputStream, ProcessExit, StartProcessOptions, StopOptions } from "./process.js";

// The TestService.
export {
  ONE_WAY_EVENTS,
  TEST_METHODS,
  TEST_METHOD_NAMES,
  TEST_SERVICE_HEARTBEAT_MS,
  TEST_SERVICE_NAME,
  expectedTypesJson,
} from "./test-service.js";
export type { OneWayEvent, TestMethodSpec } from "./test-service.js";
