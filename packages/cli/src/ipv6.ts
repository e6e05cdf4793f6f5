// IPv6 endpoints need ZeroMQ's ZMQ_IPV6 socket option: without it libzmq refuses `tcp://[::1]:...`
// ("No such device"). @zrpc/transport-zeromq has no option for it (yet), so it is set on the
// global ZeroMQ context, whose settings new sockets inherit. That reaches the transport's sockets
// because a normal install has one copy of the `zeromq` module (and of its native addon).

/** Turns on IPv6 for the ZeroMQ sockets created from now on (IPv4 keeps working on them). */
export async function enableIpv6(): Promise<void> {
  const zeromq = await import("zeromq");
  zeromq.context.ipv6 = true;
}
