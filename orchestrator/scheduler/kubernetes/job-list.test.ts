import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ApiException,
  BatchV1Api,
  type Configuration,
  createConfiguration,
  ServerConfiguration,
} from '@kubernetes/client-node';
import { FakeKubeServer, type InterceptedAnswer } from '../../../test/fake-kube/server.ts';
import { fakeKubeConfig } from '../../../test/fake-kube/support.ts';
import type { RunRequest } from '../backend.ts';
import { runName } from '../names.ts';
import { runStatusOf } from './backend.ts';
import { parseKubernetesConfig } from './config.ts';
import { getJobListText, parseJobListPage, projectJob } from './job-list.ts';
import { jobManifest, MANAGED_SELECTOR } from './manifest.ts';
import { retryAfterMs, retryableKind } from './retry.ts';

const config = parseKubernetesConfig({ image: 'esweep-worker:test', namespace: 'lists' });

function request(n: number): RunRequest {
  return {
    sweepId: 'sweep1',
    sweepName: 'lists',
    trialId: `trial${n}`,
    trialKey: String(n).padStart(16, '0'),
    attempt: 1,
    spec: { arch: 'vgg16', dataset: 'cifar10', pruner: 'lamp', type: 'effective', compression: 100, seed: n },
    dependsOnTrialId: null,
    resources: { gpu: 1 },
  };
}

/** A whole Job as the API server returns it: the manifest plus server fields and a status. */
function wholeJob(n: number, status: Record<string, unknown>, suspend = false): Record<string, unknown> {
  const manifest = JSON.parse(JSON.stringify(jobManifest(request(n), config)));
  return {
    ...manifest,
    metadata: {
      ...manifest.metadata,
      namespace: 'lists',
      uid: `uid-${n}`,
      resourceVersion: String(100 + n),
      creationTimestamp: '2026-01-01T00:00:00Z',
      managedFields: [{ manager: 'esweep', operation: 'Update', fieldsV1: { 'f:spec': {} } }],
    },
    spec: { ...manifest.spec, suspend },
    status,
  };
}

const conditionsOf = (...list: [string, string, string?, string?][]) =>
  list.map(([type, status, reason, message]) => ({
    type,
    status,
    reason,
    message,
    lastProbeTime: '2026-01-01T00:00:05Z',
    lastTransitionTime: '2026-01-01T00:00:05Z',
  }));

const JOBS = [
  wholeJob(1, { active: 1, startTime: '2026-01-01T00:00:01Z', ready: 1, uncountedTerminatedPods: {} }),
  wholeJob(2, {
    succeeded: 1,
    conditions: conditionsOf(['SuccessCriteriaMet', 'True'], ['Complete', 'True']),
  }),
  wholeJob(3, {
    failed: 1,
    conditions: conditionsOf(
      ['FailureTarget', 'True', 'PodFailurePolicy', 'Container worker exited with 2'],
      ['Failed', 'True', 'PodFailurePolicy', 'Container worker exited with 2'],
    ),
  }),
  wholeJob(4, { failed: 3, conditions: conditionsOf(['Failed', 'True', 'BackoffLimitExceeded']) }),
  wholeJob(5, { conditions: conditionsOf(['Suspended', 'True', 'JobSuspended']) }, true),
  wholeJob(6, { active: 1, conditions: conditionsOf(['Suspended', 'False', 'JobResumed']) }),
];

describe('Job list pages read into slim Jobs', () => {
  test('the projection keeps everything the controller decides on, and little else', () => {
    const page = parseJobListPage(
      JSON.stringify({
        apiVersion: 'batch/v1',
        kind: 'JobList',
        metadata: { resourceVersion: '200', continue: 'next-token', remainingItemCount: 3 },
        items: JOBS,
      }),
    );
    assert.equal(page.resourceVersion, '200');
    assert.equal(page.continue, 'next-token');
    assert.equal(page.items.length, JOBS.length);
    const phases = page.items.map((job, k) => {
      const whole = runStatusOf(JOBS[k] as never);
      assert.deepEqual(runStatusOf(job), whole);
      assert.ok(JSON.stringify(job).length < JSON.stringify(JOBS[k]).length / 3);
      return [whole?.phase, whole?.badInput, whole?.suspended ?? false, whole?.resumedAt !== undefined];
    });
    // The statuses compared are the ones the controller tells apart.
    assert.deepEqual(phases, [
      ['running', false, false, false],
      ['succeeded', false, false, false],
      ['failed', true, false, false],
      ['failed', false, false, false],
      ['pending', false, true, false],
      ['running', false, false, true],
    ]);
    const slim = page.items[0];
    assert.deepEqual(Object.keys(slim).sort(), ['metadata', 'spec', 'status']);
    assert.deepEqual(Object.keys(slim.metadata).sort(), ['labels', 'name', 'namespace', 'resourceVersion']);
    assert.deepEqual(slim.spec, { suspend: false });
    assert.deepEqual(slim.status, { active: 1 });
  });

  test('the last page has no continue token; an empty list has no items', () => {
    const last = parseJobListPage('{"metadata":{"resourceVersion":"7","continue":""},"items":null}');
    assert.deepEqual(last, { items: [], resourceVersion: '7', continue: undefined });
  });

  test('an invalid Job fails the page with an error naming it and the field', () => {
    const broken = structuredClone(JOBS[1]) as { metadata: { name: string }; status: unknown };
    broken.status = { active: 'one' };
    assert.throws(
      () => parseJobListPage(JSON.stringify({ metadata: {}, items: [JOBS[0], broken] })),
      (error: Error) => {
        const name = runName('lists', request(2).trialKey, 1);
        assert.equal(
          error.message,
          `list of Jobs: items[1] (${name}): status.active: must be a number, got "one"`,
        );
        return true;
      },
    );
    assert.throws(
      () => parseJobListPage(JSON.stringify({ items: [{ metadata: { labels: {} } }] })),
      /^InputError: list of Jobs: items\[0\]: metadata\.name: is required$/,
    );
    assert.throws(() => parseJobListPage('{"kind":"Status"}'), /list of Jobs: items: is required/);
    assert.throws(() => parseJobListPage('<html>'), /list of Jobs: the response is not JSON/);
  });

  test('a watch event object goes through the same projection', () => {
    const slim = projectJob(JOBS[2], 'watch event');
    assert.deepEqual(runStatusOf(slim), runStatusOf(JOBS[2] as never));
    assert.throws(
      () => projectJob({ metadata: { name: 7 } }, 'watch event'),
      /^.*watch event: metadata\.name: /,
    );
  });
});

describe('Job list pages from an API server (fake)', () => {
  let server: FakeKubeServer;
  let configuration: Configuration;
  let imposed: InterceptedAnswer | null = null;

  before(async () => {
    server = new FakeKubeServer({ intercept: (r) => (r.verb === 'list' ? imposed : null) });
    const url = await server.start();
    const batch = fakeKubeConfig(url).makeApiClient(BatchV1Api);
    for (const n of [1, 2, 3]) {
      const body = {
        ...jobManifest(request(n), config),
        spec: { ...jobManifest(request(n), config).spec!, suspend: true },
      };
      await batch.createNamespacedJob({ namespace: 'lists', body });
    }
    configuration = createConfiguration({ baseServer: new ServerConfiguration(url, {}) });
  });
  after(() => server.stop());

  const getJobListPage = async (query: Parameters<typeof getJobListText>[2]) =>
    parseJobListPage(await getJobListText(configuration, 'lists', query));

  test('pages of slim Jobs with a continue token, as the server pages them', async () => {
    const first = await getJobListPage({ labelSelector: MANAGED_SELECTOR, limit: 2 });
    assert.equal(first.items.length, 2);
    assert.ok(first.continue);
    const second = await getJobListPage({
      labelSelector: MANAGED_SELECTOR,
      limit: 2,
      continue: first.continue,
    });
    assert.equal(second.continue, undefined);
    assert.equal(second.resourceVersion, first.resourceVersion);
    assert.deepEqual(
      [...first.items, ...second.items].map((job) => [job.metadata.name, runStatusOf(job)?.suspended]),
      [1, 2, 3].map((n) => [runName('lists', request(n).trialKey, 1), true]),
    );
    for (const job of first.items) assert.equal((job.spec as Record<string, unknown>).template, undefined);
  });

  test('a refusal is the ApiException the generated client throws: retried the same way', async () => {
    imposed = { code: 429, retryAfterSeconds: 3 };
    try {
      const error = await getJobListPage({ limit: 2 }).then(
        () => assert.fail('the list was not refused'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof ApiException);
      assert.equal(error.code, 429);
      assert.equal(retryableKind(error), 'throttled');
      assert.equal(retryAfterMs(error), 3000);
      imposed = { code: 503 };
      const unavailable = await getJobListPage({}).catch((e: unknown) => e);
      assert.equal(retryableKind(unavailable), 'server');
    } finally {
      imposed = null;
    }
  });
});
