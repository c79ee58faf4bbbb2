import { spawnSync } from 'node:child_process';
import { ROOT } from '@app/testing';
import { parse } from 'yaml';
import {
  type DeployedService,
  render,
  servicesWithPeers,
} from '../scripts/render-deploy.cjs';

/**
 * What the deployment files need of each service is written from nest-cli.json by
 * scripts/render-deploy.cjs (`npm run render:deploy`): the committed files must be what it writes
 * now, and a service added to the list must get its own piece in each of them.
 */
describe('the deployment files written from nest-cli.json (npm run render:deploy)', () => {
  it('are what `npm run render:deploy` writes now', () => {
    const run = spawnSync(
      process.execPath,
      ['scripts/render-deploy.cjs', '--check'],
      { cwd: ROOT, encoding: 'utf8', timeout: 120_000 },
    );
    // A file named here: run `npm run render:deploy` and commit what it changes.
    expect({ status: run.status, stderr: run.stderr }).toEqual({
      status: 0,
      stderr: '',
    });
  }, 120_000);

  it("read each service's port and its peers from its ServiceDefinition", () => {
    const services = servicesWithPeers();
    expect(
      services.map(({ name, portVariable, port, peers }) => ({
        name,
        portVariable,
        port,
        peers: peers.map((peer) => peer.name),
      })),
    ).toEqual([
      { name: 'users', portVariable: 'USERS_PORT', port: 5001, peers: [] },
      {
        name: 'orders',
        portVariable: 'ORDERS_PORT',
        port: 5002,
        peers: ['users'],
      },
    ]);
  }, 120_000);

  describe('for a third service, payments on 5003, which calls users', () => {
    let files: Record<string, string>;

    beforeAll(() => {
      const services = servicesWithPeers();
      const users = services.find(({ name }) => name === 'users')!;
      const payments: DeployedService = {
        name: 'payments',
        portVariable: 'PAYMENTS_PORT',
        port: 5003,
        variables: ['PAYMENTS_PORT', 'USERS_SERVICE_URL'],
        peers: [users],
      };
      files = Object.fromEntries(
        render([...services, payments]).map(({ file, text }) => [file, text]),
      );
    }, 120_000);

    it('has an image target, a compose service behind nginx, and a database', () => {
      expect(files['Dockerfile']).toContain('FROM runtime AS payments\n');
      const compose = parse(files['compose.yaml']) as {
        services: Record<
          string,
          {
            environment?: Record<string, string>;
            ports?: string[];
            depends_on?: Record<string, unknown>;
          }
        >;
      };
      expect(compose.services.payments.environment).toMatchObject({
        PAYMENTS_PORT: '5003',
        USERS_SERVICE_URL: 'http://lb:5001',
        DATABASE_URL: expect.stringMatching(/@pgbouncer:6432\/payments$/),
      });
      expect(compose.services.payments.depends_on).toHaveProperty('users');
      expect(compose.services.lb.ports).toContain('5003:5003');
      expect(compose.services.lb.depends_on).toHaveProperty('payments');
      expect(files['deploy/compose/nginx.conf']).toMatch(
        /upstream payments \{[^}]*server payments:5003 /,
      );
      expect(files['deploy/compose/nginx.conf']).toMatch(
        /listen 5003;[\s\S]*?proxy_pass http:\/\/payments;/,
      );
      expect(files['deploy/compose/create-databases.sql']).toContain(
        'CREATE DATABASE payments;',
      );
      for (const ini of [
        files['deploy/compose/pgbouncer.ini'],
        files['deploy/k8s/pgbouncer.yaml'],
      ])
        expect(ini).toContain(
          'payments = host=postgres port=5432 dbname=payments',
        );
    });

    it('has its manifests, listed in the kustomization, and is scraped and watched', () => {
      expect(files['deploy/k8s/payments.yaml']).toContain(
        'USERS_SERVICE_URL: http://users:5001',
      );
      expect(files['deploy/k8s/payments.yaml']).toContain(
        'containerPort: 5003',
      );
      expect(
        (
          parse(files['deploy/k8s/kustomization.yaml']) as {
            resources: string[];
          }
        ).resources,
      ).toContain('payments.yaml');
      expect(files['deploy/prometheus/prometheus.yml']).toMatch(
        /job_name: payments\n\s+dns_sd_configs:\n\s+- names: \[payments\]\n\s+type: A\n\s+port: 5003/,
      );
      const causes = files['deploy/prometheus/rules/causes.rules.yaml'];
      expect(causes).toContain('up{job=~"users|orders|payments"}');
      expect(causes).toContain('absent(up{job="payments"})');
      expect(files['deploy/grafana/dashboards/users-orders.json']).toContain(
        'job=~\\"users|orders|payments\\"',
      );
    });
  });
});
