// A stand-in for the `zeromq` package zerorpc-node 0.9.8 requires (zeromq@^4.6.0, the v5 API:
// zmq.socket("xrep"), bindSync, setsockopt, "message" events). zeromq@4/5 cannot be installed
// here: its install step downloads libzmq from the network and its C++ addon no longer compiles on
// Node 20. zeromq@6 ships a prebuilt addon and a v5 compatibility layer with that API, so this
// package re-exports it. The pnpm override `zerorpc>zeromq` (pnpm-workspace.yaml) links it in.
//
// This directory is linked (`link:`), not installed, so it has no node_modules of its own:
// zeromq@6 is resolved from @zrpc/interop-node, which lists it as a devDependency.
"use strict";

const path = require("node:path");

const v6 = require(require.resolve("zeromq", { paths: [path.join(__dirname, "..")] }));
const compat = require(require.resolve("zeromq/v5-compat", { paths: [path.join(__dirname, "..")] }));

// zeromq@6's context is "blocky" by default: libzmq waits at exit for unsent messages of every
// socket (linger -1), so a zerorpc-node process whose peer went away never exits. zerorpc-node 0.9.8
// never sets a linger, and zeromq@4/5 exited regardless; give new sockets linger 0 as they did.
v6.context.blocky = false;

module.exports = compat;
