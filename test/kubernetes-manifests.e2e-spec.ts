import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { read, ROOT } from './operating';

/**
 * Every manifest under deploy/k8s against the Kubernetes API's own schema (kubernetes-models,
 * generated from the API's OpenAPI document), as strictly as `kubectl apply` checks it: a wrong
 * type or a missing required field, and a field the API does not know (a misspelled key, which the
 * API server refuses under strict field validation, kubectl's default). No cluster runs here.
 */
const K8S = 'deploy/k8s';
const KUSTOMIZATION = 'kustomization.yaml';
const manifestFiles = readdirSync(join(ROOT, K8S))
  .filter((file) => /\.ya?ml$/.test(file) && file !== KUSTOMIZATION)
  .sort();

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  [field: string]: unknown;
}
const documents = manifestFiles.flatMap((file) =>
  parseAllDocuments(read(`${K8S}/${file}`)).map((document) => ({
    file,
    manifest: document.toJS() as Manifest,
  })),
);

type Model = { prototype: { validate(this: unknown): void } };

/** The kubernetes-models class of an apiVersion and kind (an ES module, so imported). */
async function modelOf({
  apiVersion,
  kind,
}: Manifest): Promise<Model | undefined> {
  try {
    const module = (await import(
      `kubernetes-models/${apiVersion}/${kind}`
    )) as Record<string, Model>;
    return module[kind];
  } catch {
    return undefined;
  }
}

/**
 * What is wrong with a manifest by the API's schema: type and required-field errors from the
 * schema's validator, and the fields it does not know. Its validator ignores fields no schema
 * names, so each object is handed to it behind a proxy that records which fields it looks up; a
 * field never looked up is unknown to the API. An object whose keys it lists (a map such as
 * labels or data) has no fixed fields.
 */
async function problems(manifest: Manifest): Promise<string[]> {
  const objects: {
    path: string;
    fields: object;
    lookedUp: Set<PropertyKey>;
    listed: boolean;
  }[] = [];
  const watch = (value: unknown, path: string): unknown => {
    if (Array.isArray(value))
      return value.map((item, index) => watch(item, `${path}[${index}]`));
    if (value === null || typeof value !== 'object') return value;
    const fields = Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        watch(item, `${path}.${key}`),
      ]),
    );
    const seen = {
      path,
      fields,
      lookedUp: new Set<PropertyKey>(),
      listed: false,
    };
    objects.push(seen);
    return new Proxy(fields, {
      get: (target, key, receiver) => {
        seen.lookedUp.add(key);
        return Reflect.get(target, key, receiver) as unknown;
      },
      has: (target, key) => {
        seen.lookedUp.add(key);
        return Reflect.has(target, key);
      },
      ownKeys: (target) => {
        seen.listed = true;
        return Reflect.ownKeys(target);
      },
    });
  };
  const Model = await modelOf(manifest);
  if (!Model)
    return [`${manifest.apiVersion} ${manifest.kind}: not a kind of the API`];
  const found: string[] = [];
  try {
    Model.prototype.validate.call(watch(manifest, ''));
  } catch (error) {
    found.push((error as Error).message);
  }
  for (const { path, fields, lookedUp, listed } of objects) {
    // Listed: a map. Never looked into: inside an unknown field, already reported.
    if (listed || lookedUp.size === 0) continue;
    for (const key of Object.keys(fields))
      if (!lookedUp.has(key)) found.push(`${path}.${key}: unknown field`);
  }
  return found;
}

describe('the Kubernetes manifests (deploy/k8s)', () => {
  it('are all applied by the kustomization, which holds nothing else', () => {
    const kustomization = parse(read(`${K8S}/${KUSTOMIZATION}`)) as Record<
      string,
      unknown
    >;
    expect(Object.keys(kustomization).sort()).toEqual([
      'apiVersion',
      'kind',
      'resources',
    ]);
    expect(kustomization.apiVersion).toBe('kustomize.config.k8s.io/v1beta1');
    expect(kustomization.kind).toBe('Kustomization');
    expect([...(kustomization.resources as string[])].sort()).toEqual(
      manifestFiles,
    );
  });

  it.each(
    documents.map(({ file, manifest }) => [
      `${manifest.kind} ${manifest.metadata?.name} (${file})`,
      manifest,
    ]),
  )('%s is valid by the Kubernetes API schema', async (_, manifest) => {
    expect(await problems(manifest as Manifest)).toEqual([]);
  });

  describe('the check itself', () => {
    const deployment = documents.find(
      ({ manifest }) => manifest.kind === 'Deployment',
    )!.manifest;
    // oxlint-disable-next-line typescript/no-explicit-any -- breaks a manifest on purpose, with values of any type
    const broken = (change: (manifest: any) => void) => {
      const copy = structuredClone(deployment);
      change(copy);
      return problems(copy);
    };

    it('refuses a field of the wrong type', async () => {
      expect(
        await broken((m) => {
          m.spec.template.spec.containers[0].ports[0].containerPort = 'http';
        }),
      ).toEqual([expect.stringContaining('containerPort must be integer')]);
    });

    it('refuses a misspelled field, wherever it is', async () => {
      expect(
        await broken((m) => {
          m.spec.replica = 2;
          m.spec.template.spec.containers[0].imagePullpolicy = 'Always';
        }),
      ).toEqual([
        '.spec.template.spec.containers[0].imagePullpolicy: unknown field',
        '.spec.replica: unknown field',
      ]);
    });

    it('refuses a missing required field', async () => {
      expect(
        await broken((m) => {
          delete m.spec.template.spec.containers[0].name;
        }),
      ).toEqual([
        'data/spec/template/spec/containers/0 must have required property name',
      ]);
    });

    it('refuses a ConfigMap value that is not a string', async () => {
      const configMap = structuredClone(
        documents.find(({ manifest }) => manifest.kind === 'ConfigMap')!
          .manifest,
      );
      configMap.data = { ...configMap.data, PORT: 5001 as unknown as string };
      expect(await problems(configMap)).toEqual([
        expect.stringContaining('PORT must be string'),
      ]);
    });

    it('refuses a kind the API does not have', async () => {
      expect(await problems({ ...deployment, kind: 'Deploymnet' })).toEqual([
        'apps/v1 Deploymnet: not a kind of the API',
      ]);
    });
  });
});

describe('the ConfigMaps written from deploy/grafana and deploy/prometheus', () => {
  const configMap = (name: string) =>
    documents.find(
      ({ manifest }) =>
        manifest.kind === 'ConfigMap' && manifest.metadata.name === name,
    )!.manifest;
  const differ = (name: string, files: string[]) => {
    const { data } = configMap(name);
    expect(Object.keys(data ?? {}).sort()).toEqual(
      files.map((file) => basename(file)).sort(),
    );
    // Not toEqual on the texts: a difference would print both whole files.
    return files.filter((file) => data?.[basename(file)] !== read(file));
  };

  it('carry the dashboard as it is, labelled for the Grafana sidecar (else: npm run render:configmaps)', () => {
    expect(
      differ('users-orders-grafana-dashboard', [
        'deploy/grafana/dashboards/users-orders.json',
      ]),
    ).toEqual([]);
    expect(
      configMap('users-orders-grafana-dashboard').metadata.labels
        ?.grafana_dashboard,
    ).toBe('1');
  });

  it('carry every rule file as it is (else: npm run render:configmaps)', () => {
    const ruleFiles = readdirSync(join(ROOT, 'deploy/prometheus/rules')).map(
      (file) => `deploy/prometheus/rules/${file}`,
    );
    expect(differ('users-orders-prometheus-rules', ruleFiles)).toEqual([]);
  });
});
