import { parseAllDocuments } from 'yaml';
import {
  forPodman,
  kustomizedFiles,
  Manifest,
  secretVolumes,
  volumeSecret,
} from './kube';

/**
 * scripts/podman-kube.cjs, which test:image and docs/operations.md's podman commands use: it changes only
 * what it says it changes, and says it.
 */
describe.each(kustomizedFiles())(
  'podman-kube.cjs on deploy/k8s/$file',
  ({ docs }) => {
    const { yaml, changes } = forPodman(docs, 15_001);
    const played = parseAllDocuments(yaml).map((doc) => doc.toJS() as Manifest);
    const original = docs.find((doc) => doc.kind === 'Deployment')!;
    const originalPod = original.spec.template.spec;
    const secrets = docs.filter((doc) => doc.kind === 'Secret');
    const mounted = secretVolumes(docs);

    it('leaves out the Secrets, and says how podman reads each: env as JSON of base64 values, volumes as their texts', () => {
      expect(played.filter((doc) => doc.kind === 'Secret')).toEqual([]);
      expect(secrets).not.toEqual([]);
      for (const { metadata } of secrets)
        expect(changes).toContainEqual(
          expect.stringMatching(
            new RegExp(
              `^Secret ${metadata.name}: left out; create it as a podman secret, ${
                mounted.includes(metadata.name)
                  ? 'an object whose "data" holds each file\'s text as it is'
                  : 'a JSON object of base64 values'
              }`,
            ),
          ),
        );
    });

    it("changes replicas, restartPolicy (for init containers), secret volumes' optional, the liveness probe and the published port of the Deployment, and nothing else", () => {
      const deployment = played.find((doc) => doc.kind === 'Deployment')!;
      const pod = deployment.spec.template.spec;
      const container = pod.containers[0];
      const port = container.ports[0].containerPort;
      expect(deployment.spec.replicas).toBe(1);
      expect(pod.restartPolicy).toBe(
        originalPod.initContainers ? 'OnFailure' : originalPod.restartPolicy,
      );
      expect(container.ports[0]).toMatchObject({
        hostPort: 15_001,
        hostIP: '127.0.0.1',
      });
      const probe = originalPod.containers[0].livenessProbe;
      expect(container.livenessProbe.exec.command).toEqual(
        probe.httpGet
          ? [
              'node',
              '-e',
              `"fetch('http://127.0.0.1:${port}/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"`,
            ]
          : ['bash', '-c', `"exec 3<>/dev/tcp/127.0.0.1/${port}"`],
      );
      for (const volume of pod.volumes ?? [])
        if (volume.secret) expect(volume.secret.optional).toBe(false);
      // One sentence each: the Secrets, replicas, the policy, the volumes, the probe, the port.
      expect(changes).toHaveLength(
        secrets.length +
          1 +
          (originalPod.initContainers ? 1 : 0) +
          mounted.length +
          1 +
          1,
      );
      // Undone, the changes give back the manifest as written.
      const undone = structuredClone(deployment);
      const undonePod = undone.spec.template.spec;
      undone.spec.replicas = original.spec.replicas;
      if (originalPod.restartPolicy === undefined)
        delete undonePod.restartPolicy;
      delete undonePod.containers[0].ports[0].hostPort;
      delete undonePod.containers[0].ports[0].hostIP;
      for (const volume of undonePod.volumes ?? [])
        if (volume.secret) delete volume.secret.optional;
      const { exec, timeoutSeconds, ...timing } =
        undonePod.containers[0].livenessProbe;
      expect(exec).toBeDefined();
      if (probe.httpGet) {
        expect(timeoutSeconds).toBe(3);
        undonePod.containers[0].livenessProbe = {
          httpGet: { path: '/health/live', port: 'http' },
          ...timing,
        };
      } else {
        expect(timeoutSeconds).toBe(probe.timeoutSeconds);
        undonePod.containers[0].livenessProbe = {
          tcpSocket: { port: 'pgbouncer' },
          ...timing,
          ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }),
        };
      }
      expect(undone).toEqual(original);
      expect(played.filter((doc) => doc.kind !== 'Deployment')).toEqual(
        docs.filter(
          (doc) => doc.kind !== 'Deployment' && doc.kind !== 'Secret',
        ),
      );
    });
  },
);

describe('volumeSecret', () => {
  it("gives a Secret's files as podman 4.3 reads a secret volume: each file's text as it is", () => {
    expect(
      volumeSecret({
        kind: 'Secret',
        metadata: { name: 'userlist' },
        data: { 'a.txt': Buffer.from('"a" "b"\n').toString('base64') },
        stringData: { 'b.txt': '"c" "d"\n' },
      }),
    ).toEqual({ data: { 'a.txt': '"a" "b"\n', 'b.txt': '"c" "d"\n' } });
  });
});
