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
 * deploy/compose/nginx.conf: round robin, kept-alive upstream connections, and a GET retried on
 * the next replica when one fails, so that losing a replica loses no idempotent request.
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
${servers.map((url) => `    server ${new URL(url).host} max_fails=1 fail_timeout=2s;`).join('\n')}
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${ports[name]};
    location / {
${proxySettings(name)}
    }
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

/** The proxy directives of deploy/compose/nginx.conf's locations; the deployment test compares. */
export function proxySettings(upstream: string): string {
  return [
    `proxy_pass http://${upstream};`,
    'proxy_http_version 1.1;',
    'proxy_set_header Connection "";',
    'proxy_set_header Host $host;',
    'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    'proxy_next_upstream error timeout http_502 http_503;',
    'proxy_next_upstream_tries 2;',
    'proxy_connect_timeout 2s;',
  ]
    .map((line) => `      ${line}`)
    .join('\n');
}
