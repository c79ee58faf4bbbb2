import { createConnection, createServer, Server, Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Cuts every connection and refuses new ones: the server behind is gone. */
  cut(): Promise<void>;
  /** Accepts connections again on the same port: the server is back. */
  restore(): Promise<void>;
  /**
   * New connections go to `target` from now on; open ones stay where they are, as when the DNS
   * name of a managed database moves to its new primary.
   */
  pointTo(target: { host: string; port: number }): void;
  close(): Promise<void>;
}

/**
 * A loopback TCP proxy to `first`, to take a server away from a process and give it back, or to
 * send its new connections elsewhere.
 */
export async function startTcpProxy(first: {
  host: string;
  port: number;
}): Promise<TcpProxy> {
  let target = first;
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = async () => {
    server = createServer((client) => {
      const upstream = createConnection(target);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) =>
      server!.listen(port, '127.0.0.1', resolve),
    );
    port = (server.address() as { port: number }).port;
  };
  const cut = async () => {
    const closing = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (closing) await new Promise((resolve) => closing.close(resolve));
  };
  await listen();
  return {
    port,
    cut,
    restore: listen,
    pointTo: (next) => {
      target = next;
    },
    close: cut,
  };
}
