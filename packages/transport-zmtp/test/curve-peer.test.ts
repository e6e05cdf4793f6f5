// The test-side CurveZMQ peer (curve-peer.ts) checked on its own: its crypto against published
// answers, and its client role against its server role over loopback. The hostile and fuzz tests
// trust it only because of these.
import { Buffer } from "node:buffer";
import { afterEach, describe, expect, it } from "vitest";
import { CurveClientPeer, CurveServerConnection, RawListener, boxKey, commandBody, hsalsa20, rawKeyPair, seal, shortNonce, unseal } from "./curve-peer.js";

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, "hex"));

const listeners: RawListener[] = [];
afterEach(async () => {
  await Promise.all(listeners.splice(0).map((listener) => listener.close()));
});

describe("the test CurveZMQ peer", () => {
  it("derives the box key of the RFC 7748 Alice and Bob keys as NaCl does", () => {
    const aliceSecret = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    const bobPublic = hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    const bobSecret = hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    const alicePublic = hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    // RFC 7748 section 6.1 gives the shared secret; NaCl's crypto_box_beforenm of these keys is
    // its HSalsa20 with a zero input (the "firstkey" of the NaCl tests).
    const shared = hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    expect(Buffer.from(hsalsa20(shared, new Uint8Array(16))).toString("hex")).toBe("1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389");
    expect(Buffer.from(boxKey(aliceSecret, bobPublic)).toString("hex")).toBe("1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389");
    expect(Buffer.from(boxKey(bobSecret, alicePublic))).toEqual(Buffer.from(boxKey(aliceSecret, bobPublic)));
  });

  it("seals boxes that open only with the right key and nonce, 16 octets longer than the text", () => {
    const a = rawKeyPair();
    const b = rawKeyPair();
    const nonce = shortNonce("CurveZMQMESSAGEC", 3n);
    const box = seal(boxKey(a.secretKey, b.publicKey), nonce, Buffer.from("hello"));
    expect(box.length).toBe(5 + 16);
    expect(unseal(boxKey(b.secretKey, a.publicKey), nonce, box)?.toString()).toBe("hello");
    expect(unseal(boxKey(b.secretKey, a.publicKey), shortNonce("CurveZMQMESSAGEC", 4n), box)).toBeUndefined();
    expect(unseal(boxKey(b.secretKey, rawKeyPair().publicKey), nonce, box)).toBeUndefined();
    const flipped = Buffer.from(box);
    flipped[20] = (flipped[20] as number) ^ 1;
    expect(unseal(boxKey(b.secretKey, a.publicKey), nonce, flipped)).toBeUndefined();
    expect(unseal(boxKey(b.secretKey, a.publicKey), nonce, box.subarray(0, 15))).toBeUndefined();
  });

  it("builds commands of the sizes RFC 26 gives: HELLO 200, WELCOME 168, INITIATE 257+, READY 30+, MESSAGE 33+", async () => {
    const listener = await RawListener.listen();
    listeners.push(listener);
    const serverKeys = rawKeyPair();
    const client = await CurveClientPeer.connect(listener.port, serverKeys.publicKey);
    const server = new CurveServerConnection(await listener.accept(), serverKeys);
    const hello = client.helloBody();
    expect(hello.length).toBe(200);
    client.sendCommandBody(hello);
    await server.readHello();
    const welcome = commandBody("WELCOME", server.welcomeData());
    expect(welcome.length).toBe(168);
    server.sendCommandBody(welcome);
    await client.readWelcome();
    expect(client.initiateBody({ metadata: {} }).length).toBe(257);
    expect(commandBody("READY", server.readyData({ metadata: {} })).length).toBe(30);
    expect(client.messageBody({ data: new Uint8Array(0) }).length).toBe(33);
    client.connection.destroy();
  });

  it("plays a full handshake and messages both ways between its own client and server roles", async () => {
    const listener = await RawListener.listen();
    listeners.push(listener);
    const serverKeys = rawKeyPair();
    const clientKeys = rawKeyPair();
    const client = await CurveClientPeer.connect(listener.port, serverKeys.publicKey, clientKeys);
    const server = new CurveServerConnection(await listener.accept(), serverKeys);
    await Promise.all([client.handshake({ "Socket-Type": "DEALER", Identity: "me" }), server.handshake({ "Socket-Type": "ROUTER" })]);
    expect(Buffer.from(server.clientPermanent ?? [])).toEqual(Buffer.from(clientKeys.publicKey));
    expect(server.clientMetadata?.get("identity")?.toString()).toBe("me");
    expect(client.serverMetadata?.get("socket-type")?.toString()).toBe("ROUTER");
    client.sendMessage([Buffer.from("a"), Buffer.from("bc")]);
    expect((await server.readMessage()).map(String)).toEqual(["a", "bc"]);
    server.sendMessage([Buffer.alloc(300, 7)]);
    expect(await client.readMessage()).toEqual([Buffer.alloc(300, 7)]);
    client.connection.destroy();
    await server.connection.closed;
  });

  it("its server role notices a wrong vouch and a wrong server key, so its checks can fail", async () => {
    const listener = await RawListener.listen();
    listeners.push(listener);
    const serverKeys = rawKeyPair();
    const client = await CurveClientPeer.connect(listener.port, serverKeys.publicKey);
    const server = new CurveServerConnection(await listener.accept(), serverKeys);
    client.sendHello();
    await server.readHello();
    server.sendWelcome();
    await client.readWelcome();
    client.sendInitiate({ vouch: client.vouch({ server: rawKeyPair().publicKey }) });
    await expect(server.readInitiate()).rejects.toThrow("vouch does not match");
    const other = await CurveClientPeer.connect(listener.port, rawKeyPair().publicKey);
    const second = new CurveServerConnection(await listener.accept(), serverKeys);
    other.sendHello();
    await expect(second.readHello()).rejects.toThrow("signature box does not open");
    client.connection.destroy();
    other.connection.destroy();
  });
});
