import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { ROOT } from './build-stage';

export interface Manifest {
  kind: string;
  metadata: { name: string };
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** The files `kubectl apply -k deploy/k8s` applies, each with its documents. */
export function kustomizedFiles(): { file: string; docs: Manifest[] }[] {
  const dir = join(ROOT, 'deploy', 'k8s');
  const { resources } = parse(
    readFileSync(join(dir, 'kustomization.yaml'), 'utf8'),
  ) as { resources: string[] };
  return resources.map((file) => ({
    file,
    docs: parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map(
      (doc) => doc.toJS() as Manifest,
    ),
  }));
}

/** The Secret keys a file's Deployments read: `{ "users-database": ["url"] }`. */
export function secretKeys(docs: Manifest[]): Record<string, string[]> {
  const keys: Record<string, Set<string>> = {};
  for (const doc of docs.filter((d) => d.kind === 'Deployment')) {
    const pod = doc.spec.template.spec;
    for (const container of [...(pod.initContainers ?? []), ...pod.containers])
      for (const { valueFrom } of container.env ?? [])
        if (valueFrom?.secretKeyRef)
          (keys[valueFrom.secretKeyRef.name] ??= new Set()).add(
            valueFrom.secretKeyRef.key,
          );
  }
  return Object.fromEntries(
    Object.entries(keys).map(([name, set]) => [name, [...set]]),
  );
}

/**
 * A manifest file as podman 4.3 can run it on one machine, with the smallest changes, each said
 * in `changes`. Nothing else in it is touched: images, env, ConfigMaps, probes, securityContext,
 * resources, init containers, Services and PodDisruptionBudgets go to podman as written.
 */
export function forPodman(
  docs: Manifest[],
  hostPort: number,
): { yaml: string; changes: string[] } {
  const changes = new Set<string>();
  const kept = docs.filter((doc) => {
    if (doc.kind !== 'Secret') return true;
    changes.add(
      `Secret ${doc.metadata.name}: left out, created as a podman secret holding the throwaway cluster's URL (podman 4.3 stores a Secret document as YAML, then reads secretKeyRef only as JSON, and the manifest's URL is a placeholder)`,
    );
    return false;
  });
  const played = kept.map((doc) => {
    if (doc.kind !== 'Deployment') return doc;
    const copy = structuredClone(doc);
    const name = doc.metadata.name;
    if (copy.spec.replicas !== 1) {
      changes.add(
        `Deployment ${name}: replicas ${copy.spec.replicas} → 1 (podman makes one pod per replica on one machine, and each would publish the same host port)`,
      );
      copy.spec.replicas = 1;
    }
    const pod = copy.spec.template.spec;
    if (pod.initContainers?.length && pod.restartPolicy !== 'OnFailure') {
      changes.add(
        `Deployment ${name}: restartPolicy ${pod.restartPolicy ?? 'Always (the default)'} → OnFailure (podman 4.3 gives init containers the pod's policy, so Always reruns the migration forever and the app never starts)`,
      );
      pod.restartPolicy = 'OnFailure';
    }
    for (const container of pod.containers)
      for (const port of container.ports ?? [])
        if (port.hostPort === undefined) {
          changes.add(
            `Deployment ${name}: containerPort ${port.containerPort} published as 127.0.0.1:${hostPort} (hostIP, hostPort; podman would publish it on every address at the same port number)`,
          );
          Object.assign(port, { hostPort, hostIP: '127.0.0.1' });
        }
    return copy;
  });
  return {
    yaml: played.map((doc) => stringify(doc)).join('---\n'),
    changes: [...changes],
  };
}
