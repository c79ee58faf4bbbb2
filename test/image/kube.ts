import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './build-stage';

export interface Manifest {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  // oxlint-disable-next-line typescript/no-explicit-any -- as the YAML has it; kubernetes-manifests.e2e-spec.ts checks its shape
  spec?: any;
}

export const {
  forPodman,
  secretKeys,
  secretVolumes,
  volumeSecret,
  readManifest,
} = require('../../scripts/podman-kube.cjs') as {
  /** A manifest as podman 4.3 can run it, and the changes made (scripts/podman-kube.cjs). */
  forPodman: (
    docs: Manifest[],
    hostPort?: number,
  ) => { yaml: string; changes: string[] };
  /** The Secret keys a manifest's Deployments read: `{ "users-database": ["url"] }`. */
  secretKeys: (docs: Manifest[]) => Record<string, string[]>;
  /** The Secrets a manifest's Deployments mount as volumes: `["pgbouncer-userlist"]`. */
  secretVolumes: (docs: Manifest[]) => string[];
  /** A Secret as podman 4.3 reads a secret volume: `data` with each file's text as it is. */
  volumeSecret: (secret: Manifest) => { data: Record<string, string> };
  readManifest: (file: string) => Manifest[];
};

/**
 * The files `kubectl apply -k deploy/k8s` applies that run a service (a Deployment), each with its
 * documents; the dashboard and rules ConfigMaps are for Grafana and Prometheus, not for podman.
 */
export function kustomizedFiles(): { file: string; docs: Manifest[] }[] {
  const dir = join(ROOT, 'deploy', 'k8s');
  const { resources } = parse(
    readFileSync(join(dir, 'kustomization.yaml'), 'utf8'),
  ) as { resources: string[] };
  return resources
    .map((file) => ({ file, docs: readManifest(join(dir, file)) }))
    .filter(({ docs }) => docs.some((doc) => doc.kind === 'Deployment'));
}
