import { createConnection, createServer, Socket } from 'node:net';

/** One message of the PostgreSQL protocol as it crossed the tap. */
export interface WireMessage {
  from: 'client' | 'server';
  /** The message type: `P` (Parse), `Q` (Query), `C` (CommandComplete), ... */
  type: string;
  /** For `P` and `Q`, the SQL; for `C`, the command tag (`INSERT 0 3`, `COMMIT`). */
  text: string;
}

/** What a connection has said so far: the SQL its client sent since its last commit. */
export interface WireConnection {
  statements: string[];
}

export type WireTrigger = (
  message: WireMessage,
  connection: WireConnection,
) => boolean;

export interface WireTap {
  port: number;
  /**
   * The next message for which `trigger` holds is not passed on, and neither is anything after it
   * on that connection; `action` runs instead (a test kills the process there). Resolves once it
   * has happened.
   */
  holdAt(trigger: WireTrigger, action: () => void): Promise<WireMessage>;
  close(): Promise<void>;
}

/** Splits a stream of protocol messages, each `type, int32 length, body`, as they arrive. */
class Framer {
  private buffered = Buffer.alloc(0);
  /** A client's first messages (startup, SSL request) have no type byte. */
  constructor(private untyped: number) {}

  push(chunk: Buffer): { raw: Buffer; type: string; body: Buffer }[] {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    const messages: { raw: Buffer; type: string; body: Buffer }[] = [];
    for (;;) {
      const typed = this.untyped === 0;
      const header = typed ? 5 : 4;
      if (this.buffered.length < header) break;
      const length = this.buffered.readInt32BE(typed ? 1 : 0);
      const size = (typed ? 1 : 0) + length;
      if (this.buffered.length < size) break;
      const raw = this.buffered.subarray(0, size);
      this.buffered = this.buffered.subarray(size);
      if (!typed) {
        // An SSL request (code 80877103) is followed by the startup message, also untyped.
        const code = raw.readInt32BE(4);
        this.untyped = code === 80877103 ? 1 : 0;
        messages.push({ raw, type: '', body: raw.subarray(4) });
        continue;
      }
      messages.push({
        raw,
        type: String.fromCharCode(raw[0]),
        body: raw.subarray(5),
      });
    }
    return messages;
  }
}

function textOf(type: string, body: Buffer): string {
  const cString = (from: number) => {
    const end = body.indexOf(0, from);
    return body.toString('utf8', from, end < 0 ? body.length : end);
  };
  if (type === 'Q' || type === 'C') return cString(0);
  // Parse: the statement's name, then its SQL.
  if (type === 'P') return cString(body.indexOf(0) + 1);
  return '';
}

/**
 * A loopback proxy to a PostgreSQL server that reads the protocol passing through it, so that a
 * test can stop a process at an exact point of its conversation with the database: just before
 * a statement reaches the server, or just after the server has run it (its CommandComplete held
 * back). What the process had begun and not committed is then rolled back by the server, as
 * when a process dies anywhere else. Nothing in the service knows about it.
 */
export async function startPostgresWireTap(target: {
  host: string;
  port: number;
}): Promise<WireTap> {
  const sockets = new Set<Socket>();
  const waiting: {
    trigger: WireTrigger;
    action: () => void;
    done: (message: WireMessage) => void;
  }[] = [];

  const server = createServer((client) => {
    const upstream = createConnection(target);
    const connection: WireConnection = { statements: [] };
    let held = false;
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
      socket.on('error', () => undefined);
    }
    const relay =
      (from: 'client' | 'server', framer: Framer, to: Socket) =>
      (chunk: Buffer) => {
        if (held) return;
        for (const { raw, type, body } of framer.push(chunk)) {
          const message: WireMessage = { from, type, text: textOf(type, body) };
          if (from === 'client' && (type === 'P' || type === 'Q'))
            connection.statements.push(message.text);
          const hit = waiting.findIndex((wait) =>
            wait.trigger(message, connection),
          );
          if (hit >= 0) {
            const [wait] = waiting.splice(hit, 1);
            held = true;
            wait.action();
            wait.done(message);
            return;
          }
          if (from === 'server' && type === 'C' && message.text === 'COMMIT')
            connection.statements = [];
          to.write(raw);
        }
      };
    client.on('data', relay('client', new Framer(1), upstream));
    upstream.on('data', relay('server', new Framer(0), client));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    holdAt: (trigger, action) =>
      new Promise((done) => waiting.push({ trigger, action, done })),
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
