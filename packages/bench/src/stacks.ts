// The transports of the zrpc stacks, for server.ts and client.ts: which package, and the options
// every stack shares (the limit's high-water marks) plus CURVE for the `-curve` stacks.
import type { OpenedTransport } from "@zrpc/channel";
import type { ConnectionEvent } from "@zrpc/channel";
import { createZeromqTransport } from "@zrpc/transport-zeromq";
import { createZmtpTransport } from "@zrpc/transport-zmtp";
import { curveKeysFromEnv, isCurveStack } from "./common.js";
import type { Stack } from "./common.js";
import { HWM } from "./limit.js";

/** A zrpc stack (every stack but the limit). */
export type ZrpcStack = Exclude<Stack, "limit">;

/** What the handshake workload needs of a DEALER transport created without endpoints. */
export interface DealerTransport extends OpenedTransport {
  connect(endpoint: string): void;
  watchConnections(listener: (event: ConnectionEvent) => void): () => void;
}

/**
 * Options both transports take alike (the CURVE keys as Z85 text, which both accept).
 */
interface StackOptions {
  readonly sendHighWaterMark: number;
  readonly receiveHighWaterMark: number;
  readonly curve?:
    | { readonly publicKey: string; readonly secretKey: string; readonly allowedClientKeys: readonly string[] }
    | { readonly serverKey: string; readonly publicKey: string; readonly secretKey: string };
  readonly bind?: string;
  readonly connect?: string;
}

/** The security of a stack: plaintext (NULL) or CURVE. */
export function mechanismOf(stack: ZrpcStack): "NULL" | "CURVE" {
  return isCurveStack(stack) ? "CURVE" : "NULL";
}

/**
 * Socket options of a stack's server or client: the limit's high-water marks (see limit.ts),
 * everything else default; for a CURVE stack the run's keys, the server allowing the one client
 * key (so the server checks an allow-list, as a deployment that authenticates its clients does).
 */
function socketOptions(stack: ZrpcStack, role: "server" | "client"): StackOptions {
  const options = { sendHighWaterMark: HWM, receiveHighWaterMark: HWM };
  if (!isCurveStack(stack)) return options;
  const keys = curveKeysFromEnv();
  const curve =
    role === "server"
      ? { publicKey: keys.serverPublic, secretKey: keys.serverSecret, allowedClientKeys: [keys.clientPublic] }
      : { serverKey: keys.serverPublic, publicKey: keys.clientPublic, secretKey: keys.clientSecret };
  return { ...options, curve };
}

let zmtpCurveChecked = false;

/**
 * Throws unless transport-zmtp knows the `curve` option: a build without it would ignore the option
 * and the `zrpc-zmtp-curve` rows would measure plaintext. A transport that knows it refuses a
 * malformed key with a `TypeError`.
 */
async function assertZmtpCurve(): Promise<void> {
  if (zmtpCurveChecked) return;
  let transport: DealerTransport | undefined;
  try {
    transport = await createZmtpTransport("dealer", { curve: { serverKey: "not a key" } });
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    zmtpCurveChecked = true;
    return;
  }
  await transport.close();
  throw new Error("@zrpc/transport-zmtp ignores the curve option in this build: zrpc-zmtp-curve would measure plaintext");
}

async function create(stack: ZrpcStack, kind: "router" | "dealer", options: StackOptions): Promise<DealerTransport> {
  if (stack === "zrpc-zeromq" || stack === "zrpc-zeromq-curve") return await createZeromqTransport(kind, options);
  if (stack === "zrpc-zmtp-curve") await assertZmtpCurve();
  return await createZmtpTransport(kind, options);
}

/** The stack's server transport: a ROUTER bound to `endpoint`. */
export function bindStackRouter(stack: ZrpcStack, endpoint: string): Promise<OpenedTransport> {
  return create(stack, "router", { ...socketOptions(stack, "server"), bind: endpoint });
}

/** The stack's client transport: a DEALER connected to `endpoint`, or not connected yet without it. */
export function createStackDealer(stack: ZrpcStack, endpoint?: string): Promise<DealerTransport> {
  return create(stack, "dealer", { ...socketOptions(stack, "client"), ...(endpoint !== undefined && { connect: endpoint }) });
}
