import { parseAllDocuments } from 'yaml';
import { forPodman, kustomizedFiles, Manifest } from './kube';

/**
 * scripts/podman-kube.cjs, which test:image and the README's podman commands use: it changes only
 * what it says it changes, and says it.
 */
describe.each(kustomizedFiles())(
  'podman-kube.cjs on deploy/k8s/$file',
  ({ docs }) => {
    const { yaml, changes } = forPodman(docs, 15_001);
    const played = parseAllDocuments(yaml).map((doc) => doc.toJS() as Manifest);

    it('leaves out the Secret, and says so', () => {
      expect(played.filter((doc) => doc.kind === 'Secret')).toEqual([]);
      expect(changes).toContainEqual(
        expect.stringMatching(/^Secret \S+-database: left out/),
      );
    });

    it('changes replicas, restartPolicy, the liveness probe and the published port of the Deployment, and nothing else', () => {
      const deployment = played.find((doc) => doc.kind === 'Deployment')!;
      const pod = deployment.spec.template.spec;
      expect(deployment.spec.replicas).toBe(1);
      expect(pod.restartPolicy).toBe('OnFailure');
      expect(pod.containers[0].ports[0]).toMatchObject({
        hostPort: 15_001,
        hostIP: '127.0.0.1',
      });
      const container = pod.containers[0];
      expect(container.livenessProbe.exec.command).toEqual([
        'node',
        '-e',
        `"fetch('http://127.0.0.1:${container.ports[0].containerPort}/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"`,
      ]);
      expect(changes).toHaveLength(5);
      // Undone, the changes give back the manifest as written.
      const undone = structuredClone(deployment);
      const original = docs.find((doc) => doc.kind === 'Deployment')!;
      undone.spec.replicas = original.spec.replicas;
      delete undone.spec.template.spec.restartPolicy;
      delete undone.spec.template.spec.containers[0].ports[0].hostPort;
      delete undone.spec.template.spec.containers[0].ports[0].hostIP;
      const { exec, timeoutSeconds, ...timing } =
        undone.spec.template.spec.containers[0].livenessProbe;
      expect(exec).toBeDefined();
      expect(timeoutSeconds).toBe(3);
      undone.spec.template.spec.containers[0].livenessProbe = {
        httpGet: { path: '/health/live', port: 'http' },
        ...timing,
      };
      expect(undone).toEqual(original);
      expect(played.filter((doc) => doc.kind !== 'Deployment')).toEqual(
        docs.filter(
          (doc) => doc.kind !== 'Deployment' && doc.kind !== 'Secret',
        ),
      );
    });
  },
);
