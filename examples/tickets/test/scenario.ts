// What both database back ends must answer, through the zrpc client over real sockets.
import { expect, expectTypeOf } from "vitest";
import { RemoteError, connect } from "@zrpc/client";
import type { Client } from "@zrpc/client";
import { registry } from "@zrpc/server";
import { SEED_TICKETS } from "../tickets/db.js";
// Type-only: the client is typed from the server code, which this process does not load.
import type { Ticket, tickets } from "../tickets/rpcs.js";
import { runCli } from "./helpers.js";

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** Checks get_ticket, ticket_list and boom against a running tickets server. */
export async function checkTickets(endpoint: string): Promise<void> {
  // The type-only import above loaded nothing: the methods are registered in the server process only.
  expect(registry.has("get_ticket")).toBe(false);
  const client = await connect<typeof tickets>(endpoint);
  try {
    expectTypeOf(client.proxy.ticket_list).toEqualTypeOf<(n: number) => AsyncIterable<Ticket>>();
    expectTypeOf(client.proxy.get_ticket).toEqualTypeOf<() => Promise<Ticket | null>>();
    const first = await client.call("get_ticket");
    expect(first).toEqual({ id: 1, title: SEED_TICKETS[0]!.title, status: SEED_TICKETS[0]!.status, created_at: expect.stringMatching(ISO_TIME) });

    const three: Ticket[] = [];
    for await (const ticket of client.stream("ticket_list", [3])) three.push(ticket);
    expect(three.map((ticket) => [ticket.id, ticket.title, ticket.status])).toEqual(
      SEED_TICKETS.slice(0, 3).map((ticket, index) => [index + 1, ticket.title, ticket.status]),
    );

    const all = await client.call("ticket_list", [100]);
    expect(all).toHaveLength(SEED_TICKETS.length);

    const badCount = await client.call("ticket_list", [-1]).catch((error: unknown) => error);
    expect(RemoteError.isInstance(badCount) && [badCount.remoteName, badCount.rawMessage]).toEqual(["ValueError", "n must be a non-negative integer, got -1"]);

    const boom = await client.call("boom").catch((error: unknown) => error);
    expect(RemoteError.isInstance(boom)).toBe(true);
    expect((boom as RemoteError).remoteName).toBe("Error");
    expect((boom as RemoteError).rawMessage).toBe("boom: an unexpected error, raised on purpose");
    expect((boom as RemoteError).remoteTraceback).toMatch(/at (Object\.|CallContext\.)?boom \(.*rpcs\.ts:\d+:\d+\)/);
  } finally {
    await client.close();
  }
}

/**
 * Compiled, never called: a method renamed on the server (in tickets/rpcs.ts) breaks every
 * caller at compile time, whichever way it calls (the package's typecheck checks these lines).
 */
export function renamedMethodsDoNotCompile(client: Client<typeof tickets>): void {
  // @ts-expect-error: no method get_tickets
  void client.proxy.get_tickets();
  // @ts-expect-error: no method get_tickets, through call()
  void client.call("get_tickets");
  // @ts-expect-error: no method ticket_lists, through stream()
  void client.stream("ticket_lists", [3]);
  // @ts-expect-error: no method booom, through invoke()
  void client.invoke("booom");
  // @ts-expect-error: ticket_list takes a number
  void client.call("ticket_list", ["3"]);
}

/** Checks the same through `zrpc call` (child processes): what the demo shows. */
export async function checkTicketsWithCli(endpoint: string): Promise<void> {
  const one = await runCli(["call", endpoint, "get_ticket"]);
  expect(one.code).toBe(0);
  expect(JSON.parse(one.stdout)).toMatchObject({ id: 1, title: SEED_TICKETS[0]!.title });
  const list = await runCli(["call", endpoint, "ticket_list", "3"]);
  expect(list.code).toBe(0);
  expect(list.stdout.split("\n").map((line) => (JSON.parse(line) as Ticket).id)).toEqual([1, 2, 3]);
  const boom = await runCli(["call", endpoint, "boom"]);
  expect(boom).toMatchObject({ code: 1, stdout: "", stderr: "Error: boom: an unexpected error, raised on purpose" });
}
