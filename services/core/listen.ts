import type { AddressInfo, Server } from "node:net";

/** Listens on `host:port`; a failed listen (port taken) rejects instead of throwing from an event. */
export function listenOn(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server.address() as AddressInfo);
    });
  });
}
