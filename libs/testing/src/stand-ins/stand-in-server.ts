import {
  createServer,
  IncomingMessage,
  Server,
  ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type StandInHandler = (
  request: IncomingMessage,
  response: ServerResponse,
) => void;

/**
 * A real HTTP server on a loopback port that plays the users app badly (or well) on request,
 * and records what reached it.
 */
export class StandInServer {
  readonly requests: IncomingMessage[] = [];
  get port(): number {
    return Number(new URL(this.url).port);
  }

  /** Every TCP connection opened to it, to see whether clients reuse them. */
  connections = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  /** Listens on `port`, or on any free one. */
  static async start(
    handler: StandInHandler,
    port = 0,
  ): Promise<StandInServer> {
    let standIn: StandInServer | undefined;
    const server = createServer((request, response) => {
      standIn!.requests.push(request);
      handler(request, response);
    });
    await new Promise<void>((resolve) =>
      server.listen(port, '127.0.0.1', resolve),
    );
    const { port: actual } = server.address() as AddressInfo;
    standIn = new StandInServer(server, `http://127.0.0.1:${actual}`);
    server.on('connection', (socket) => {
      standIn!.connections += 1;
      standIn!.sockets.add(socket);
      socket.on('close', () => standIn!.sockets.delete(socket));
    });
    return standIn;
  }

  async close(): Promise<void> {
    // A hanging handler never ends its response; the sockets go with the server.
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Answers every request with this status and body. */
export function answer(
  status: number,
  body: string,
  contentType = 'application/json',
): StandInHandler {
  return (_request, response) => {
    response.writeHead(status, { 'content-type': contentType });
    response.end(body);
  };
}

/** Accepts the request and never answers. */
export const hang: StandInHandler = () => undefined;

/** A loopback URL where nothing listens, so connecting is refused. */
export async function refusedUrl(): Promise<string> {
  const standIn = await StandInServer.start(hang);
  await standIn.close();
  return standIn.url;
}
