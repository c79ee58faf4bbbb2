import { portOf } from '@app/platform';
import { parse } from 'yaml';
import {
  type DeployedService,
  render,
  servicesWithPeers,
} from '../scripts/render-deploy.cjs';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promtool, read, ROOT, runScript } from './operating';
import { serviceDefinitions } from './service-definitions';

/**
 * What the deployment files need of each service is written from nest-cli.json by
 * scripts/render-deploy.cjs (`npm run render:deploy`): the committed files must be what it writes
 * now, and a service added to the list must get its own piece in each of them.
 */
describe('the deployment files written from nest-cli.json (npm run render:deploy)', () => {
  it('are what `npm run render:deploy` writes now', () => {
    // A file named here: run `npm run render:deploy` and commit what it changes.
    runScript('scripts/render-deploy.cjs', '--check');
  }, 120_000);

  it("read each service's port and its peers from its ServiceDefinition", () => {
    const names = serviceDefinitions().map(({ name }) => name);
    // Each call reads the apps with TypeScript's compiler: once for both checks.
    const services = servicesWithPeers();
    expect(
      services.map(({ name, portVariable, port, peers }) => ({
        name,
        portVariable,
        port,
        peers: peers.map((peer) => peer.name),
      })),
    ).toEqual(
      serviceDefinitions().map((service) => {
        const config = new service.config();
        return {
          name: service.name,
          portVariable: service.port,
          port: portOf(service, config),
          // A peer: another service whose URL the config reads.
          peers: names.filter(
            (peer) =>
              peer !== service.name &&
              `${peer.toUpperCase()}_SERVICE_URL` in config,
          ),
        };
      }),
    );
    // Orders calls users, the one peer there is: the check above would pass with none found.
    expect(
      services
        .find(({ name }) => name === 'orders')
        ?.peers.map(({ name }) => name),
    ).toEqual(['users']);
  }, 120_000);

  describe('for another service, ledger on 5099, which calls users', () => {
    let files: Record<string, string>;

    beforeAll(() => {
      const services = servicesWithPeers();
      const users = services.find(({ name }) => name === 'users')!;
      const ledger: DeployedService = {
        name: 'ledger',
        portVariable: 'LEDGER_PORT',
        port: 5099,
        variables: ['LEDGER_PORT', 'USERS_SERVICE_URL'],
        peers: [users],
        slo: {
          availability: { objective: 0.995, why: 'a ledger may lag' },
          latency: {
            objective: 0.95,
            why: 'entries are written in batches',
            thresholds: [
              {
                routes: 'GET /ledger',
                le: '0.5',
                match: ['route="/ledger"'],
                why: 'a whole day of entries',
              },
            ],
          },
        },
      };
      files = Object.fromEntries(
        render([...services, ledger]).map(({ file, text }) => [file, text]),
      );
    }, 120_000);

    it('has an image target, a compose service behind nginx, and a database', () => {
      expect(files['Dockerfile']).toContain('FROM runtime AS ledger\n');
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
      expect(compose.services.ledger.environment).toMatchObject({
        LEDGER_PORT: '5099',
        USERS_SERVICE_URL: 'http://lb:5001',
        DATABASE_URL: expect.stringMatching(/@pgbouncer:6432\/ledger$/),
      });
      expect(compose.services.ledger.depends_on).toHaveProperty('users');
      expect(compose.services.lb.ports).toContain('5099:5099');
      expect(compose.services.lb.depends_on).toHaveProperty('ledger');
      expect(files['deploy/compose/nginx.conf']).toMatch(
        /upstream ledger \{[^}]*server ledger:5099 /,
      );
      expect(files['deploy/compose/nginx.conf']).toMatch(
        /listen 5099;[\s\S]*?proxy_pass http:\/\/ledger;/,
      );
      expect(files['deploy/compose/create-databases.sql']).toContain(
        'CREATE DATABASE ledger;',
      );
      for (const ini of [
        files['deploy/compose/pgbouncer.ini'],
        files['deploy/k8s/pgbouncer.yaml'],
      ])
        expect(ini).toContain('ledger = host=postgres port=5432 dbname=ledger');
      expect(files['deploy/k8s/pgbouncer.yaml']).toContain(
        '"ledger" "change-me"\n',
      );
    });

    it('has its manifests, listed in the kustomization, and is scraped and watched', () => {
      expect(files['deploy/k8s/ledger.yaml']).toContain(
        'USERS_SERVICE_URL: http://users:5001',
      );
      expect(files['deploy/k8s/ledger.yaml']).toContain('containerPort: 5099');
      expect(
        (
          parse(files['deploy/k8s/kustomization.yaml']) as {
            resources: string[];
          }
        ).resources,
      ).toContain('ledger.yaml');
      expect(files['deploy/prometheus/prometheus.yml']).toMatch(
        /job_name: ledger\n\s+dns_sd_configs:\n\s+- names: \[ledger\]\n\s+type: A\n\s+port: 5099/,
      );
      const jobs = [...serviceDefinitions().map(({ name }) => name), 'ledger'];
      const causes = files['deploy/prometheus/rules/causes.rules.yaml'];
      expect(causes).toContain(`up{job=~"${jobs.join('|')}"}`);
      expect(causes).toContain('absent(up{job="ledger"})');
      expect(files['deploy/grafana/dashboards/users-orders.json']).toContain(
        `job=~\\"${jobs.join('|')}\\"`,
      );
    });

    it('records its SLIs and objectives from its slo.yaml, and documents them with their reasons', () => {
      const slo = files['deploy/prometheus/rules/slo.rules.yaml'];
      expect(slo).toContain('labels: { service: ledger, slo: availability }\n');
      expect(slo).toContain('expr: vector(0.995)');
      // Every window: availability over every service's routes (the committed rules' list, then
      // ledger's), and ledger's own latency rule.
      const routes = /route=~"([^"]+)", status_code=~"5\.\."/.exec(
        read('deploy/prometheus/rules/slo.rules.yaml'),
      )![1];
      for (const window of ['5m', '30m', '1h', '2h', '6h', '1d', '3d', '30d']) {
        expect(slo).toContain(
          `rate(http_request_duration_seconds_bucket{service="ledger", route="/ledger", le="0.5"}[${window}])`,
        );
        expect(slo).toContain(
          `sum by (service) (rate(http_request_duration_seconds_count{route=~"${routes}|/ledger", status_code=~"5.."}[${window}]))`,
        );
      }
      expect(files['docs/operations.md']).toMatch(
        /\| ledger availability +\| 99\.5% +\|/,
      );
      expect(files['docs/operations.md']).toMatch(
        /\| `GET \/ledger` +\| 500 ms +\| a whole day of entries +\|/,
      );
    });

    it("keeps the alerts' tests passing: ledger is up wherever a test does not say otherwise, and its objectives are its own", () => {
      // The rules and their tests as rendered, side by side as the committed ones are.
      const dir = mkdtempSync(join(tmpdir(), 'render-deploy-'));
      try {
        mkdirSync(join(dir, 'rules'));
        mkdirSync(join(dir, 'tests'));
        for (const file of [
          'rules/causes.rules.yaml',
          'rules/slo.rules.yaml',
          'tests/causes.test.yaml',
          'tests/slo.test.yaml',
        ])
          writeFileSync(
            join(dir, file),
            // The SLO tests as committed: the script does not write them.
            files[`deploy/prometheus/${file}`] ??
              readFileSync(join(ROOT, 'deploy/prometheus', file), 'utf8'),
          );
        expect(files['deploy/prometheus/tests/causes.test.yaml']).toContain(
          `up{job="ledger", instance="ledger-1:5099"}`,
        );
        const output = promtool(
          'test',
          'rules',
          join(dir, 'tests/causes.test.yaml'),
          join(dir, 'tests/slo.test.yaml'),
        );
        expect(output.match(/SUCCESS/g)).toHaveLength(2);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
