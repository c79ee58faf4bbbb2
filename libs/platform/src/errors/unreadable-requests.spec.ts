import { createServer } from 'node:http';
import { PassThrough } from 'node:stream';
import { answerUnreadableRequests } from './unreadable-requests';

/** What the server writes back on a connection whose request Node refused with `code`. */
function answerTo(code: string): { written: string; destroyed: boolean } {
  const server = createServer();
  answerUnreadableRequests(server);
  const socket = new PassThrough();
  let written = '';
  socket.on('data', (chunk) => (written += String(chunk)));
  server.emit('clientError', Object.assign(new Error(code), { code }), socket);
  return { written, destroyed: socket.destroyed };
}

describe('answerUnreadableRequests', () => {
  it.each([
    ['HPE_INVALID_METHOD', 400, 'Bad Request'],
    ['HPE_HEADER_OVERFLOW', 431, 'Request Header Fields Too Large'],
    ['ERR_HTTP_REQUEST_TIMEOUT', 408, 'Request Timeout'],
  ])('answers %s with a %s problem and closes', (code, status, title) => {
    const { written } = answerTo(code);
    const [head, body] = written.split('\r\n\r\n');
    expect(head).toMatch(new RegExp(`^HTTP/1\\.1 ${status} ${title}\\r\\n`));
    expect(head).toContain('Content-Type: application/problem+json');
    expect(head).toContain('Connection: close');
    expect(JSON.parse(body)).toMatchObject({
      type: 'about:blank',
      title,
      status,
    });
  });

  it('says nothing to a client that reset the connection', () => {
    expect(answerTo('ECONNRESET')).toEqual({ written: '', destroyed: true });
  });
});
