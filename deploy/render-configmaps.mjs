// Writes the Kubernetes ConfigMaps that carry the Grafana dashboard and the Prometheus rules
// (deploy/k8s/*-configmap.yaml) from their files: npm run render:configmaps. Kustomize's
// configMapGenerator cannot do it, as it refuses files outside deploy/k8s. A test fails when a
// ConfigMap and its files differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { stringify } from 'yaml';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Each ConfigMap: where it is written, what it is called and labelled, the files it holds. */
export const CONFIGMAPS = [
  {
    path: 'deploy/k8s/grafana-dashboard-configmap.yaml',
    about: [
      "The users & orders Grafana dashboard, for Grafana's dashboard sidecar, which loads every",
      'ConfigMap labelled grafana_dashboard: "1".',
    ],
    name: 'users-orders-grafana-dashboard',
    labels: { grafana_dashboard: '1' },
    files: ['deploy/grafana/dashboards/users-orders.json'],
  },
  {
    path: 'deploy/k8s/prometheus-rules-configmap.yaml',
    about: [
      'The SLO and alert rules, for a Prometheus that mounts this ConfigMap among its rule_files',
      '(a ConfigMap, not a PrometheusRule: any Prometheus can read it, and applying it needs no',
      "operator's custom resource definitions in the cluster).",
    ],
    name: 'users-orders-prometheus-rules',
    labels: {},
    files: [
      'deploy/prometheus/rules/causes.rules.yaml',
      'deploy/prometheus/rules/slo.rules.yaml',
    ],
  },
];

/** The text of one ConfigMap, formatted as the repository's other YAML files are. */
export async function render(configMap) {
  const manifest = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: configMap.name,
      labels: {
        'app.kubernetes.io/part-of': 'users-orders',
        ...configMap.labels,
      },
    },
    data: Object.fromEntries(
      configMap.files.map((file) => [
        basename(file),
        readFileSync(join(ROOT, file), 'utf8'),
      ]),
    ),
  };
  const header = [
    ...configMap.about,
    'Written by npm run render:configmaps from these files; edit them, not this:',
    ...configMap.files.map((file) => `  ${file}`),
  ]
    .map((line) => `# ${line}`)
    .join('\n');
  const text = `${header}\n${stringify(manifest, { blockQuote: 'literal', lineWidth: 0 })}`;
  const options = await prettier.resolveConfig(join(ROOT, configMap.path));
  return prettier.format(text, { ...options, parser: 'yaml' });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const configMap of CONFIGMAPS) {
    writeFileSync(join(ROOT, configMap.path), await render(configMap));
    console.log(`wrote ${configMap.path}`);
  }
}
