import { describe, expect, it } from "vitest";
import { AddressError, parseAddress } from "../src/address.js";

describe("parseAddress: valid forms", () => {
  it.each([
    ["4242", "tcp://127.0.0.1:4242", { transport: "tcp", host: "127.0.0.1", port: 4242, ipv6: false }],
    ["0.0.0.0:4242", "tcp://0.0.0.0:4242", { host: "0.0.0.0", port: 4242, ipv6: false }],
    ["192.168.1.20:1", "tcp://192.168.1.20:1", { host: "192.168.1.20", port: 1 }],
    ["[::1]:4242", "tcp://[::1]:4242", { host: "::1", port: 4242, ipv6: true }],
    ["[fe80::1%eth0]:80", "tcp://[fe80::1%eth0]:80", { host: "fe80::1%eth0", ipv6: true }],
    ["[2001:db8::7]:65535", "tcp://[2001:db8::7]:65535", { port: 65535, ipv6: true }],
    ["localhost:4242", "tcp://localhost:4242", { host: "localhost", port: 4242, ipv6: false }],
    ["db-1.internal.example.com:5000", "tcp://db-1.internal.example.com:5000", { host: "db-1.internal.example.com" }],
    ["tcp://127.0.0.1:4242", "tcp://127.0.0.1:4242", { port: 4242 }],
    ["tcp://[::1]:4242", "tcp://[::1]:4242", { ipv6: true }],
    ["tcp://localhost:9", "tcp://localhost:9", { host: "localhost" }],
    ["TCP://127.0.0.1:4242", "tcp://127.0.0.1:4242", {}],
    ["ipc:///tmp/zrpc.sock", "ipc:///tmp/zrpc.sock", { transport: "ipc", host: "/tmp/zrpc.sock", port: undefined }],
    ["ipc://relative/app.sock", "ipc://relative/app.sock", { transport: "ipc" }],
    ["  4242 ", "tcp://127.0.0.1:4242", {}],
  ])("%s -> %s", (input, endpoint, fields) => {
    const address = parseAddress(input);
    expect(address.endpoint).toBe(endpoint);
    expect(address).toMatchObject(fields);
  });

  it("accepts any free port (0 or *) and all interfaces (*) only when binding", () => {
    expect(parseAddress("0", { mode: "bind" }).endpoint).toBe("tcp://127.0.0.1:*");
    expect(parseAddress("127.0.0.1:0", { mode: "bind" }).endpoint).toBe("tcp://127.0.0.1:*");
    expect(parseAddress("[::1]:0", { mode: "bind" }).endpoint).toBe("tcp://[::1]:*");
    expect(parseAddress("tcp://127.0.0.1:*", { mode: "bind" })).toMatchObject({ endpoint: "tcp://127.0.0.1:*", port: 0 });
    expect(parseAddress("*:4242", { mode: "bind" }).endpoint).toBe("tcp://*:4242");
    expect(() => parseAddress("0")).toThrow('invalid address "0": port 0 is out of range (1-65535)');
    expect(() => parseAddress("tcp://127.0.0.1:*")).toThrow('port "*" is not a number');
    expect(() => parseAddress("*:4242")).toThrow("host * (all interfaces) can only be bound");
  });
});

describe("parseAddress: invalid forms name the input and the problem", () => {
  it.each([
    ["", 'invalid address "": empty address'],
    ["70000", 'invalid address "70000": port 70000 is out of range (1-65535)'],
    ["65536", "port 65536 is out of range"],
    ["-1", 'invalid address "-1": port -1 is out of range'],
    ["localhost:70000", 'invalid address "localhost:70000": port 70000 is out of range'],
    ["[::1]:99999", "port 99999 is out of range"],
    ["localhost:http", 'invalid address "localhost:http": port "http" is not a number'],
    ["localhost:", 'invalid address "localhost:": missing port'],
    ["localhost", 'invalid address "localhost": missing port'],
    [":4242", 'invalid address ":4242": empty host'],
    ["[]:4242", 'invalid address "[]:4242": empty host'],
    ["[::1:4242", 'invalid address "[::1:4242": bad IPv6 address: missing ]'],
    ["[::g]:4242", 'invalid address "[::g]:4242": bad IPv6 address "::g"'],
    ["[127.0.0.1]:4242", 'bad IPv6 address "127.0.0.1"'],
    ["[::1]", "missing port after [::1]"],
    ["[::1]4242", 'expected :PORT after [::1], got "4242"'],
    ["::1:4242", 'invalid address "::1:4242": IPv6 addresses must be written in brackets, as [ADDRESS]:PORT'],
    ["::1", "IPv6 addresses must be written in brackets"],
    ["tcp://::1:4242", "IPv6 addresses must be written in brackets"],
    ["1.2.3.256:80", 'invalid address "1.2.3.256:80": bad IPv4 address "1.2.3.256"'],
    ["1.2.3:80", 'bad IPv4 address "1.2.3"'],
    ["bad_host-:80", 'bad host name "bad_host-"'],
    ["exa mple:80", 'bad host name "exa mple"'],
    ["udp://127.0.0.1:4242", 'invalid address "udp://127.0.0.1:4242": unknown scheme "udp"://'],
    ["http://localhost:8000", 'unknown scheme "http"://'],
    ["inproc://zrpc", "inproc:// endpoints only work inside one process"],
    ["://localhost:1", "missing scheme before ://"],
    ["tcp://", "missing HOST:PORT after tcp://"],
    ["tcp://4242", 'invalid address "tcp://4242": missing port'],
    ["tcp://:4242", "empty host"],
    ["ipc://", 'invalid address "ipc://": empty ipc path'],
    [`ipc:///tmp/${"x".repeat(120)}`, "a Unix socket path holds at most 107"],
  ])("%j", (input, message) => {
    let caught: unknown;
    try {
      parseAddress(input, { mode: "connect" });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AddressError);
    expect((caught as AddressError).message).toContain(message);
    expect((caught as AddressError).input).toBe(input);
  });

  it("reports the bind range when binding", () => {
    expect(() => parseAddress("70000", { mode: "bind" })).toThrow('invalid address "70000": port 70000 is out of range (0-65535)');
  });
});
