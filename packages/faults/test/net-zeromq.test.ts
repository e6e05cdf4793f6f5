// The network-fault scenarios (test/net/scenarios.ts) with client and server on zeromq.js, @zrpc/transport-zeromq.
import { defineNetSuite } from "./net/scenarios.js";

defineNetSuite("zeromq");
