'use strict';
// A deploy/k8s manifest as podman 4.3's `podman kube play` can run it on one machine, with the
// smallest changes, each said on stderr. Everything else goes to podman as written: images, env,
// ConfigMaps (as env and as volumes), the readiness probe, securityContext, resources, init
// containers, Services, budgets.
//
//   node scripts/podman-kube.cjs deploy/k8s/users.yaml [host port] > users.podman.yaml
//
// The host port defaults to the container port; it is published on 127.0.0.1 only.
const { readFileSync } = require('node:fs');
const { parseAllDocuments, stringify } = require('yaml');

/** The Secret keys a manifest's Deployments read: `{ "users-database": ["url"] }`. */
function secretKeys(docs) {
  const keys = {};
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

/** The Secrets a manifest's Deployments mount as volumes, by name: `["pgbouncer-userlist"]`. */
function secretVolumes(docs) {
  const names = new Set();
  for (const doc of docs.filter((d) => d.kind === 'Deployment'))
    for (const volume of doc.spec.template.spec.volumes ?? [])
      if (volume.secret) names.add(volume.secret.secretName);
  return [...names];
}

/**
 * A Secret document as podman 4.3 reads a secret volume: an object whose `data` holds each file's
 * text as it is (podman writes those strings into the volume without decoding base64), from the
 * document's `data` (base64) and `stringData`.
 */
function volumeSecret(secret) {
  return {
    data: {
      ...Object.fromEntries(
        Object.entries(secret.data ?? {}).map(([key, value]) => [
          key,
          Buffer.from(value, 'base64').toString('utf8'),
        ]),
      ),
      ...secret.stringData,
    },
  };
}

/** A container port by its number or its name. */
function portNumber(container, port) {
  return typeof port === 'number'
    ? port
    : container.ports.find((p) => p.name === port).containerPort;
}

/** The documents for podman, and the changes made, one sentence each. */
function forPodman(docs, hostPort) {
  const changes = new Set();
  const mounted = secretVolumes(docs);
  const kept = docs.filter((doc) => {
    if (doc.kind !== 'Secret') return true;
    changes.add(
      mounted.includes(doc.metadata.name)
        ? `Secret ${doc.metadata.name}: left out; create it as a podman secret, an object whose "data" holds each file's text as it is (podman 4.3 reads a secret volume so, without decoding base64; and the manifest holds a placeholder)`
        : `Secret ${doc.metadata.name}: left out; create it as a podman secret, a JSON object of base64 values (podman 4.3 stores a Secret document as YAML, then reads secretKeyRef only as JSON; and the manifest holds a placeholder)`,
    );
    return false;
  });
  const played = kept.map((doc) => {
    if (doc.kind !== 'Deployment') return doc;
    const copy = structuredClone(doc);
    const name = doc.metadata.name;
    if (copy.spec.replicas !== undefined && copy.spec.replicas !== 1) {
      changes.add(
        `Deployment ${name}: replicas ${copy.spec.replicas} → 1 (podman makes one pod per replica, on one machine, each publishing the same host port)`,
      );
      copy.spec.replicas = 1;
    }
    const pod = copy.spec.template.spec;
    if (pod.initContainers?.length && pod.restartPolicy !== 'OnFailure') {
      changes.add(
        `Deployment ${name}: restartPolicy ${pod.restartPolicy ?? 'Always (the default)'} → OnFailure (podman 4.3 gives init containers the pod's policy: with Always the migration reruns forever and the app never starts)`,
      );
      pod.restartPolicy = 'OnFailure';
    }
    for (const volume of pod.volumes ?? [])
      if (volume.secret && volume.secret.optional === undefined) {
        changes.add(
          `Deployment ${name}: volume ${volume.name} (Secret ${volume.secret.secretName}) optional unset → false, Kubernetes' default (podman 4.3 reads an unset optional through a nil pointer and panics)`,
        );
        volume.secret.optional = false;
      }
    for (const container of pod.containers) {
      const probe = container.livenessProbe;
      if (probe?.tcpSocket) {
        const { tcpSocket, ...timing } = probe;
        const port = portNumber(container, tcpSocket.port);
        changes.add(
          `Deployment ${name}: livenessProbe tcpSocket on port ${tcpSocket.port} → exec of bash opening a connection to 127.0.0.1:${port}, quoted for the shell podman runs it in (podman 4.3 turns tcpSocket into nc, which the image lacks, on port 0 for a named port)`,
        );
        container.livenessProbe = {
          exec: {
            command: ['bash', '-c', `"exec 3<>/dev/tcp/127.0.0.1/${port}"`],
          },
          ...timing,
        };
      }
      if (probe?.httpGet) {
        const { httpGet, ...timing } = probe;
        const port = portNumber(container, httpGet.port);
        const url = `http://127.0.0.1:${port}${httpGet.path}`;
        // A process to start, not kubelet's GET: node alone takes about 0.5 s under the
        // manifest's 0.5 CPU, so Kubernetes' default 1 s times out on a busy machine.
        const timeoutSeconds = Math.max(timing.timeoutSeconds ?? 1, 3);
        changes.add(
          `Deployment ${name}: livenessProbe httpGet ${httpGet.path} on port ${httpGet.port} → exec of node fetching ${url}, quoted for the shell podman runs it in, timeout ${timing.timeoutSeconds ?? 1} s → ${timeoutSeconds} s (podman 4.3 turns httpGet into curl, which the image lacks, on port 0 for a named port; node takes about 0.5 s to start under the CPU limit)`,
        );
        // Podman 4.3 joins an exec probe's words with spaces and hands them to /bin/sh, so the
        // script carries its own quotes: right for podman, not for a cluster.
        container.livenessProbe = {
          exec: {
            command: [
              'node',
              '-e',
              `"fetch('${url}').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"`,
            ],
          },
          ...timing,
          timeoutSeconds,
        };
      }
    }
    for (const container of pod.containers)
      for (const port of container.ports ?? [])
        if (port.hostPort === undefined) {
          const published = hostPort ?? port.containerPort;
          changes.add(
            `Deployment ${name}: containerPort ${port.containerPort} published on 127.0.0.1:${published} (hostIP, hostPort; podman would publish it on every address)`,
          );
          Object.assign(port, { hostPort: published, hostIP: '127.0.0.1' });
        }
    return copy;
  });
  return {
    yaml: played.map((doc) => stringify(doc)).join('---\n'),
    changes: [...changes],
  };
}

function readManifest(file) {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((doc) => doc.toJS());
}

module.exports = {
  forPodman,
  secretKeys,
  secretVolumes,
  volumeSecret,
  readManifest,
};

if (require.main === module) {
  const [file, port] = process.argv.slice(2);
  if (!file) {
    console.error(
      'usage: node scripts/podman-kube.cjs deploy/k8s/<app>.yaml [host port]',
    );
    process.exit(2);
  }
  const { yaml, changes } = forPodman(
    readManifest(file),
    port ? Number(port) : undefined,
  );
  for (const change of changes) console.error(`changed: ${change}`);
  process.stdout.write(yaml);
}
