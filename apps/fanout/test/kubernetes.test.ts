import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { loadFlows } from '@fanout/flows';
import { parse, parseAllDocuments } from 'yaml';
import { readConfig, ROLES } from '../src/config.js';

// No cluster here: what can be checked without one. `kubectl kustomize deploy/kubernetes`
// renders these offline; the CRD itself is checked in packages/flows (crd.test.ts).
const folder = new URL('../../../deploy/kubernetes/', import.meta.url);

interface Manifest {
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown>;
}

interface Container {
  args: string[];
  env: { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }[];
  ports: { name: string; containerPort: number }[];
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}

interface PodSpec {
  terminationGracePeriodSeconds: number;
  containers: Container[];
  volumes: { name: string; configMap?: { name: string } }[];
}

const kustomization = parse(readFileSync(new URL('kustomization.yaml', folder), 'utf8')) as {
  resources: string[];
  configMapGenerator: { name: string; files: string[]; options?: { disableNameSuffixHash?: boolean } }[];
};
const manifests = kustomization.resources.flatMap((file) => parseAllDocuments(readFileSync(new URL(file, folder), 'utf8')).map((document) => document.toJS() as Manifest));
const ofKind = (kind: string): Manifest[] => manifests.filter((manifest) => manifest.kind === kind);
const podLabels = (deployment: Manifest): Record<string, string> => (deployment.spec['template'] as { metadata: { labels: Record<string, string> } }).metadata.labels;
const podSpec = (deployment: Manifest): PodSpec => (deployment.spec['template'] as { spec: PodSpec }).spec;
const selects = (selector: Record<string, string>, labels: Record<string, string>): boolean => Object.entries(selector).every(([key, value]) => labels[key] === value);

describe('deploy/kubernetes', () => {
  it('holds the DeliveryFlow CRD, a Deployment per role, Services, disruption budgets and the flows ConfigMap', () => {
    expect(ofKind('CustomResourceDefinition').map((crd) => crd.metadata.name)).toEqual(['deliveryflows.fanout.dev']);
    expect(ofKind('Deployment').map((deployment) => deployment.metadata.name).sort()).toEqual(ROLES.map((role) => `fanout-${role}`).sort());
    expect(ofKind('Service').length).toBeGreaterThan(0);
    expect(ofKind('PodDisruptionBudget').length).toBeGreaterThan(0);
    expect(kustomization.configMapGenerator.map((generator) => generator.name)).toEqual(['fanout-flows']);
  });

  it('updates the flows ConfigMap in place (a fixed name), so a flow change is hot-reloaded, not rolled out', () => {
    expect(kustomization.configMapGenerator[0]!.options?.disableNameSuffixHash).toBe(true);
    for (const deployment of ofKind('Deployment')) {
      const [container] = podSpec(deployment).containers;
      // A subPath mount is never updated by the kubelet: the whole ConfigMap must be mounted.
      expect(container!.volumeMounts.every((volumeMount) => !('subPath' in volumeMount))).toBe(true);
    }
  });

  it.each(ROLES)('runs %s with probes on /healthz and /readyz, the flows mounted where FANOUT_FLOWS says', (role) => {
    const deployment = ofKind('Deployment').find((manifest) => manifest.metadata.name === `fanout-${role}`)!;
    const spec = podSpec(deployment);
    const [container] = spec.containers;
    expect(container!.args).toEqual(['start', role]);
    const env = Object.fromEntries(container!.env.map((variable) => [variable.name, variable.value ?? variable.valueFrom]));
    expect(env['PORT']).toBe('8080');
    expect(env['REDIS_URL']).toEqual({ secretKeyRef: { name: 'fanout', key: 'redis-url' } });
    expect('FANOUT_ADMIN_TOKEN' in env).toBe(role === 'dashboard');
    expect(container!.ports).toEqual([{ name: 'http', containerPort: 8080 }]);
    expect(container!.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container!.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    const mount = container!.volumeMounts.find((volumeMount) => volumeMount.mountPath === env['FANOUT_FLOWS'])!;
    expect(spec.volumes.find((volume) => volume.name === mount.name)?.configMap?.name).toBe('fanout-flows');
    expect(selects((deployment.spec['selector'] as { matchLabels: Record<string, string> }).matchLabels, podLabels(deployment))).toBe(true);
    // Long enough for the grace period, the roles' 2 s margin and the closing steps' 1 s each.
    expect(spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(readConfig({}).FANOUT_SHUTDOWN_GRACE + 10_000);
  });

  it('covers the ingress, the dispatchers and the workers with a disruption budget, and serves the ingress and the dashboard', () => {
    const pods = Object.fromEntries(ofKind('Deployment').map((deployment) => [deployment.metadata.name.replace('fanout-', ''), podLabels(deployment)]));
    const budgeted = ofKind('PodDisruptionBudget').flatMap((budget) => ROLES.filter((role) => selects((budget.spec['selector'] as { matchLabels: Record<string, string> }).matchLabels, pods[role]!)));
    expect(budgeted.sort()).toEqual(['dispatcher', 'ingress', 'worker']);
    const served = ofKind('Service').flatMap((service) => ROLES.filter((role) => selects(service.spec['selector'] as Record<string, string>, pods[role]!)));
    expect(served.sort()).toEqual(['dashboard', 'ingress']);
  });

  it('puts DeliveryFlow resources in the ConfigMap, and they load as the roles will load them', async () => {
    const files = kustomization.configMapGenerator[0]!.files;
    const flows = (await Promise.all(files.map((file) => loadFlows(new URL(file, folder).pathname, {})))).flat();
    expect(flows.map((flow) => flow.name)).toEqual(['payments']);
    for (const file of files) expect(readFileSync(new URL(file, folder), 'utf8')).toMatch(/^kind: DeliveryFlow$/m);
  });
});
