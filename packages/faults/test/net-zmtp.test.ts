// The network-fault scenarios (test/net/scenarios.ts) with client and server on transport-zmtp, the default transport.
import { defineNetSuite } from "./net/scenarios.js";

defineNetSuite("zmtp");
