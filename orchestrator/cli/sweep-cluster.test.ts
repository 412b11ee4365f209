// The CLI's cluster front door, without a cluster: how a Sweep object's status is printed and how a
// failed API request becomes one line with the right exit code.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiException } from '@kubernetes/client-node';
import { InputError, ServiceUnavailableError } from '../../common/errors.ts';
import { sweepRequestError } from '../scheduler/kubernetes/sweep-client.ts';
import { objectStatusLines } from './sweep-cluster.ts';

const refused = (code: number, message: string) =>
  new ApiException(code, 'refused', JSON.stringify({ kind: 'Status', code, message }), {});

describe('sweep objects in the CLI', () => {
  test("a refused request is the user's to fix (exit 2), no answer is a service away (exit 69)", () => {
    const invalid = sweepRequestError(
      refused(422, 'Sweep.esweep.dev "x" is invalid: spec.pruners[0]: Unsupported value'),
      'sweep x',
    );
    assert.ok(invalid instanceof InputError);
    assert.equal(
      invalid.message,
      'sweep x: the API server refused it: Sweep.esweep.dev "x" is invalid: spec.pruners[0]: Unsupported value',
    );
    const forbidden = sweepRequestError(refused(403, 'sweeps.esweep.dev "x" is forbidden'), 'sweep x');
    assert.ok(forbidden instanceof InputError);
    assert.match(forbidden.message, /^sweep x: forbidden: /);
    assert.match(
      sweepRequestError(refused(404, 'the server could not find the requested resource'), 'sweep x').message,
      /is the Sweep CRD installed\?/,
    );
    const away = sweepRequestError(new Error('connect ECONNREFUSED 127.0.0.1:6443'), 'sweep x');
    assert.ok(away instanceof ServiceUnavailableError);
    assert.match(away.message, /cannot reach the Kubernetes API: connect ECONNREFUSED/);
    const conflict = refused(409, 'conflict');
    assert.equal(sweepRequestError(conflict, 'sweep x'), conflict, 'anything else is a bug: kept as it is');
  });

  test('status lines: phase, counts, conditions and the best table', () => {
    const lines = objectStatusLines({
      metadata: { name: 'quick', namespace: 'team-a' },
      spec: {},
      status: {
        phase: 'Running',
        progress: '3/4',
        counts: { total: 4, pending: 0, queued: 0, running: 1, completed: 3, failed: 0, cancelled: 0 },
        startedAt: '2026-12-05T14:00:00.000Z',
        best: [
          {
            arch: 'lenet300100',
            pruner: 'snip',
            type: 'direct',
            compression: 10,
            accuracy: 0.9312,
            seeds: 1,
          },
        ],
        conditions: [
          {
            type: 'Accepted',
            status: 'True',
            reason: 'Expanded',
            message: '4 trials',
            lastTransitionTime: 't',
          },
        ],
      },
    });
    assert.equal(lines[0], 'sweep quick (team-a): Running, 3/4 done, 1 running, 0 failed');
    assert.equal(lines[1], '  pending 0 · queued 0 · running 1 · completed 3 · failed 0 · cancelled 0');
    assert.match(lines.join('\n'), /Accepted: True \(Expanded\) 4 trials/);
    assert.match(lines.join('\n'), /snip\s+direct\s+10\.00\s+0\.9312\s+1/);
    assert.deepEqual(objectStatusLines({ metadata: { name: 'new', namespace: 'a' }, spec: {} }), [
      'sweep new (a): not yet seen by the controller',
    ]);
  });
});
