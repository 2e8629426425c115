import type { Server } from "elysia/universal";

/** The peer address of a request (the booth PC on the LAN); "local" under app.handle() in tests. */
export function clientAddress(server: Server | null | undefined, request: Request): string {
  return server?.requestIP(request)?.address ?? "local";
}
