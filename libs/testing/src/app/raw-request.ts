import { connect } from 'node:net';

/**
 * Sends bytes as they are, as no well-behaved HTTP client would, on a connection of its own to a
 * loopback port, and gives back what came back before the connection closed: its head and body.
 */
export function sendRaw(
  port: number,
  bytes: string,
): Promise<{ head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(bytes));
    let answer = '';
    socket.on('data', (chunk) => (answer += String(chunk)));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head, body = ''] = answer.split('\r\n\r\n');
      resolve({ head, body });
    });
  });
}
