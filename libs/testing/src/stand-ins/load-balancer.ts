import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STATUS_CODES } from 'node:http';
import { createConnection } from 'node:net';
import { freePort } from '../app/built-app';

const canConnect = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

const NGINX = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx'];

export interface LoadBalancer {
  /** The front URL of each upstream, by name. */
  urls: Record<string, string>;
  /** nginx's error log so far, to tell why a request failed. */
  errorLog(): string;
  stop(): Promise<void>;
}

/**
 * nginx from the machine's packages in front of each group of replicas, with the settings of
 * deploy/compose/nginx.conf (which says why each is so): round robin, kept-alive upstream
 * connections, a request that cannot reach a replica retried on the next, the services' own
 * answers passed through, and nginx's own errors as problem+json. It listens on 127.0.0.1 only,
 * so a client bound to another loopback address (127.0.0.2) is a client of its own.
 */
export async function startLoadBalancer(
  upstreams: Record<string, string[]>,
): Promise<LoadBalancer> {
  const nginx = NGINX.find((path) => existsSync(path));
  if (!nginx) {
    throw new Error(
      'nginx not found: install it with "apt-get install -y nginx" (.ci/run does)',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'nginx-'));
  chmodSync(dir, 0o755);
  const ports = Object.fromEntries(
    await Promise.all(
      Object.keys(upstreams).map(
        async (name) => [name, await freePort()] as const,
      ),
    ),
  );
  const asRoot = process.getuid?.() === 0;
  const conf = `
${asRoot ? 'user root root;' : ''}
worker_processes 1;
daemon off;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${Object.entries(upstreams)
  .map(
    ([name, servers]) => `
  upstream ${name} {
${servers.map((url) => `    server ${new URL(url).host} ${UPSTREAM_SERVER_PARAMETERS};`).join('\n')}
${indent(UPSTREAM_SETTINGS, 4)}
  }
  server {
    listen 127.0.0.1:${ports[name]};
${indent(serverSettings(name), 4)}
  }`,
  )
  .join('\n')}
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const errorLog = () =>
    existsSync(join(dir, 'error.log'))
      ? readFileSync(join(dir, 'error.log'), 'utf8')
      : '';
  execFileSync(nginx, ['-t', '-q', '-p', dir, '-c', join(dir, 'nginx.conf')]);
  const child: ChildProcess = spawn(
    nginx,
    ['-p', dir, '-c', join(dir, 'nginx.conf')],
    { stdio: 'ignore' },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const urls = Object.fromEntries(
    Object.entries(ports).map(([name, port]) => [
      name,
      `http://127.0.0.1:${port}`,
    ]),
  );
  // Waits for nginx's ports, not through them: a request now would mark the replicas failed.
  const deadline = Date.now() + 10_000;
  for (const port of Object.values(ports)) {
    while (!(await canConnect(port))) {
      if (Date.now() > deadline || child.exitCode !== null) {
        throw new Error(`nginx did not start:\n${errorLog()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    urls,
    errorLog,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGQUIT');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The parameters of each upstream's `server` line in deploy/compose/nginx.conf. */
export const UPSTREAM_SERVER_PARAMETERS = 'max_fails=0';

/** The rest of each upstream block of deploy/compose/nginx.conf. */
export const UPSTREAM_SETTINGS = ['keepalive 32;', 'keepalive_timeout 4s;'];

interface OwnAnswer {
  name: string;
  /** The status nginx would answer with, in HTML: its `error_page` code. */
  caught: number;
  /** What it answers instead. */
  status: number;
  detail: string;
  retryAfter?: boolean;
  /**
   * Refused while nginx reads the request line, before the request has a URI: nginx can then go
   * only to a URI, not to a named location ("empty URI in redirect to named location").
   */
  beforeUri?: boolean;
}

/**
 * What nginx answers itself, in the services' own format: when no replica could answer, and for
 * a request it refuses before any replica sees it (unreadable, a body over its 1 MB, a URI or
 * headers over its buffers). "494" is nginx's own name for headers too large; clients get
 * RFC 6585's 431. The 404 is for a client that asks for one of these answers' URIs itself.
 */
const OWN_ANSWERS: OwnAnswer[] = [
  {
    name: 'bad_request',
    caught: 400,
    status: 400,
    detail: 'The load balancer could not read the request.',
    beforeUri: true,
  },
  {
    name: 'uri_too_long',
    caught: 414,
    status: 414,
    detail: 'The request URI is longer than the load balancer takes (8 kB).',
    beforeUri: true,
  },
  {
    name: 'not_found',
    caught: 404,
    status: 404,
    detail: 'The load balancer has nothing at this URI.',
  },
  {
    name: 'too_large',
    caught: 413,
    status: 413,
    detail: 'The request body is larger than the load balancer takes (1 MB).',
  },
  {
    name: 'headers_too_large',
    caught: 494,
    status: 431,
    detail: 'The request headers are larger than the load balancer takes.',
  },
  {
    name: 'bad_gateway',
    caught: 502,
    status: 502,
    detail: 'No replica of the service could be reached; try again shortly.',
    retryAfter: true,
  },
  {
    name: 'unavailable',
    caught: 503,
    status: 503,
    detail: 'The load balancer cannot take the request now; try again shortly.',
    retryAfter: true,
  },
  {
    name: 'timeout',
    caught: 504,
    status: 504,
    detail: 'No replica of the service answered in time.',
  },
];

const target = ({ name, beforeUri }: OwnAnswer) =>
  beforeUri ? `/.load-balancer/${name}` : `@${name}`;

/**
 * Each server block of deploy/compose/nginx.conf after its `listen`: where nginx's own answers
 * go, the proxying location, and the locations of those answers. The `error_page` lines stand in
 * the server, not the location: nginx refuses some requests before it picks a location, and the
 * location inherits them. The deployment test compares the blocks line by line.
 */
export function serverSettings(upstream: string): string[] {
  return [
    ...OWN_ANSWERS.map(
      (answer) =>
        `error_page ${answer.caught}${answer.caught === answer.status ? '' : ` =${answer.status}`} ${target(answer)};`,
    ),
    'location / {',
    ...[
      `proxy_pass http://${upstream};`,
      'proxy_http_version 1.1;',
      'proxy_set_header Connection "";',
      'proxy_set_header Host $host;',
      'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
      'proxy_next_upstream error timeout;',
      'proxy_next_upstream_tries 2;',
      'proxy_connect_timeout 2s;',
    ].map((line) => `  ${line}`),
    '}',
    ...OWN_ANSWERS.flatMap((answer) => [
      `location ${answer.beforeUri ? '= ' : ''}${target(answer)} {`,
      ...(answer.beforeUri ? ['  internal;'] : []),
      '  types { }',
      '  default_type application/problem+json;',
      ...(answer.retryAfter ? ['  add_header Retry-After 1 always;'] : []),
      `  return ${answer.status} '${JSON.stringify({ type: 'about:blank', title: STATUS_CODES[answer.status], status: answer.status, detail: answer.detail })}';`,
      '}',
    ]),
  ];
}

const indent = (lines: string[], spaces: number) =>
  lines.map((line) => `${' '.repeat(spaces)}${line}`).join('\n');
