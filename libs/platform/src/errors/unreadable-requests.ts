import { problemBody } from '@app/contracts';
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { PROBLEM_CONTENT_TYPE } from './problem-details.filter';

/** What Node refused, by its error code; anything else it cannot parse is a 400. */
const REFUSED: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [
    431,
    'The request headers are larger than the service takes (16 kB).',
  ],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'The request did not arrive whole in time.'],
};

/**
 * Node answers a request it cannot parse (not HTTP, headers over its limit, too slow to arrive)
 * itself, before Express or the request log see it, with a bare status line. Such a request gets
 * a problem like every other error; there is no request, so no request id.
 */
export function answerUnreadableRequests(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // The client is gone (reset, or its side closed): nothing to answer, as Node does.
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, detail] = REFUSED[error.code ?? ''] ?? [
      400,
      'The service could not read the request as HTTP.',
    ];
    const problem = problemBody(status, detail);
    const body = JSON.stringify(problem);
    socket.end(
      `HTTP/1.1 ${status} ${problem.title}\r\n` +
        `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  });
}
