// Every rule decodeEvent applies beyond the schema (docs/event-validation.md), one test each: a message
// that breaks it is refused with its reason, and the nearest message that keeps it is accepted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DecodeOptions, decodeEvent } from './protocol.ts';
import { DEAD_LETTER_REASONS, LIMITS } from './validation.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const enc = new TextEncoder();
const header = { v: 1, sweepId: 's1', trialId: 't1', attempt: 1, seq: 0, time: '2026-06-01T11:59:00Z' };

/** Decodes a body given as an object or as raw JSON text, on the subject its kind implies. */
function decode(body: Record<string, unknown> | string, options: DecodeOptions = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify({ ...header, ...body });
  const kind = typeof body === 'string' ? (JSON.parse(text) as { kind: string }).kind : body.kind;
  return decodeEvent(`esweep.v1.s1.t1.${String(kind)}`, enc.encode(text), { now: NOW, ...options });
}

function assertRefused(
  body: Record<string, unknown> | string,
  reason: string,
  detail: RegExp,
  options?: DecodeOptions,
) {
  const decoded = decode(body, options);
  assert.equal(decoded.ok, false, `accepted: ${typeof body === 'string' ? body : JSON.stringify(body)}`);
  if (!decoded.ok) {
    assert.equal(decoded.reason, reason, decoded.detail);
    assert.match(decoded.detail, detail);
    assert.ok((DEAD_LETTER_REASONS as readonly string[]).includes(decoded.reason));
  }
}

function assertAccepted(body: Record<string, unknown> | string, options?: DecodeOptions) {
  const decoded = decode(body, options);
  assert.ok(decoded.ok, JSON.stringify(decoded));
}

const layer = (params: number, direct: number, effective: number, name = 'fc1') => ({
  name,
  shape: [params],
  params,
  direct,
  effective,
});
/** A consistent sparsity report of two layers (1000 params, 100 kept, 40 effective). */
function sparsityReport(
  overrides: Record<string, unknown> = {},
  layers = [layer(600, 60, 30), layer(400, 40, 10, 'fc2')],
) {
  return {
    kind: 'sparsity',
    layers,
    overall: {
      total: 1000,
      direct: 100,
      effective: 40,
      directSparsity: 0.9,
      effectiveSparsity: 0.96,
      directCompression: 10,
      effectiveCompression: 25,
      ...overrides,
    },
  };
}
const completed = (fields: Record<string, unknown> = {}) => ({
  kind: 'completed',
  accuracy: 0.9,
  directSparsity: 0.9,
  effectiveSparsity: 0.96,
  directCompression: 10,
  effectiveCompression: 25,
  ...fields,
});

describe('event validation before the database', () => {
  it('size: a message over LIMITS.messageBytes is too-large', () => {
    const big = 'x'.repeat(LIMITS.messageBytes);
    assertRefused({ kind: 'failed', error: big, retryable: true }, 'too-large', /bytes, at most/);
  });

  it('size: strings and arrays over their limits are too-large', () => {
    assertRefused({ kind: 'started', host: 'h'.repeat(LIMITS.nameChars + 1) }, 'too-large', /^host:/);
    assertAccepted({ kind: 'started', host: 'h'.repeat(LIMITS.nameChars) });
    assertRefused(
      { kind: 'failed', error: 'e'.repeat(LIMITS.errorChars + 1), retryable: true },
      'too-large',
      /^error:/,
    );
    const points = Array.from({ length: LIMITS.points + 1 }, (_, step) => ({ step, name: 'l', value: 1 }));
    assertRefused({ kind: 'metrics', points }, 'too-large', /^points:/);
    assertRefused(
      sparsityReport({}, [
        { ...layer(600, 60, 30), shape: [1, 1, 1, 1, 1, 1, 1, 1, 600] },
        layer(400, 40, 10),
      ]),
      'too-large',
      /^layers\.0\.shape:/,
    );
    const artifacts = Object.fromEntries(
      Array.from({ length: LIMITS.artifacts + 1 }, (_, i) => [`role${i}`, `s/t/1/f${i}`]),
    );
    assertRefused(completed({ artifacts }), 'too-large', /artifacts: 65 entries/);
  });

  it('text: a NUL character, raw or escaped, is invalid-text', () => {
    assertRefused({ kind: 'failed', error: 'a\u0000b', retryable: true }, 'invalid-text', /NUL/);
    assertRefused(
      `{"v":1,"sweepId":"s1","trialId":"t1","attempt":1,"seq":0,"time":"${header.time}","kind":"failed","error":"a\\u0000b","retryable":true}`,
      'invalid-text',
      /NUL/,
    );
  });

  it('text: a lone UTF-16 surrogate in a value or a key is invalid-text; a pair is fine', () => {
    const withHost = (escaped: string) =>
      `{"v":1,"sweepId":"s1","trialId":"t1","attempt":1,"seq":0,"time":"${header.time}","kind":"started","host":"${escaped}"}`;
    assertRefused(withHost('node\\ud800'), 'invalid-text', /^host: contains a lone UTF-16 surrogate/);
    assertRefused(withHost('\\udc00node'), 'invalid-text', /surrogate/);
    assertAccepted(withHost('\\ud83d\\ude00'));
    // An escaped backslash followed by "ud800" is plain text.
    assertAccepted(withHost('\\\\ud800'));
    assertRefused(
      `{"v":1,"sweepId":"s1","trialId":"t1","attempt":1,"seq":0,"time":"${header.time}","kind":"completed","accuracy":0.5,"directSparsity":0,"effectiveSparsity":0,"artifacts":{"m\\ud800":"x"}}`,
      'invalid-text',
      /artifacts\.m/,
    );
  });

  it('numbers: non-finite numbers are malformed', () => {
    const metrics = (value: string) =>
      `{"v":1,"sweepId":"s1","trialId":"t1","attempt":1,"seq":0,"time":"${header.time}","kind":"metrics","points":[{"step":1,"name":"loss","value":${value}}]}`;
    assertRefused(metrics('1e999'), 'malformed', /points\.0\.value/);
    assertRefused(metrics('-1e999'), 'malformed', /points\.0\.value/);
    assertAccepted(metrics('1e300'));
    assertRefused(completed({ seconds: 'Infinity' }), 'malformed', /^seconds:/);
  });

  it('numbers: counts are non-negative integers within range', () => {
    assertRefused(
      sparsityReport({}, [layer(600, -1, 0), layer(400, 40, 10)]),
      'malformed',
      /layers\.0\.direct/,
    );
    assertRefused(
      sparsityReport({}, [layer(600, 60.5, 30), layer(400, 40, 10)]),
      'malformed',
      /layers\.0\.direct/,
    );
    assertRefused({ kind: 'progress', step: 2 ** 31 }, 'malformed', /^step:/);
    assertRefused({ kind: 'heartbeat', seq: -1 }, 'malformed', /^seq:/);
  });

  it('incarnation: absent, or 1 to 64 letters, digits, _ and - (it is part of the message id)', () => {
    assertAccepted({ kind: 'heartbeat' });
    assertAccepted({ kind: 'heartbeat', incarnation: '0b9c6f1e-2d4a-4c8e-9f3a-5b7d1e2c3a4f' });
    assertRefused({ kind: 'heartbeat', incarnation: '' }, 'malformed', /^incarnation:/);
    assertRefused({ kind: 'heartbeat', incarnation: 'a:b' }, 'malformed', /^incarnation:/);
    assertRefused({ kind: 'heartbeat', incarnation: 'x'.repeat(65) }, 'too-large', /^incarnation:/);
  });

  it('time: before 2000 (year 0 included) is bad-time; an impossible date is malformed', () => {
    assertRefused({ kind: 'started', time: '0000-01-01T00:00:00Z' }, 'bad-time', /before 2000/);
    assertRefused({ kind: 'started', time: '1970-01-01T00:00:00Z' }, 'bad-time', /before 2000/);
    assertRefused({ kind: 'started', time: '2026-02-30T00:00:00Z' }, 'malformed', /^time:/);
    assertAccepted({ kind: 'started', time: '2000-01-01T00:00:00Z' });
  });

  it('time: later than receipt plus the allowed skew is clock-skew (9999-12-31 included)', () => {
    assertRefused({ kind: 'heartbeat', time: '9999-12-31T23:59:59Z' }, 'clock-skew', /after its receipt/);
    assertRefused(
      { kind: 'heartbeat', time: new Date(NOW + 61_000).toISOString() },
      'clock-skew',
      /at most 60 s/,
    );
    assertAccepted({ kind: 'heartbeat', time: new Date(NOW + 59_000).toISOString() });
    // The skew is configurable; events from long ago (a backlog after an outage) are fine.
    assertRefused(
      { kind: 'heartbeat', time: new Date(NOW + 5_000).toISOString() },
      'clock-skew',
      /at most 1 s/,
      {
        maxSkewMs: 1000,
      },
    );
    assertAccepted({ kind: 'heartbeat', time: new Date(NOW - 30 * 86_400_000).toISOString() });
    // An offset counts: 13:00+02:00 is 11:00Z.
    assertAccepted({ kind: 'heartbeat', time: '2026-06-01T13:00:00+02:00' });
  });

  it('counts: a layer with effective > direct is inconsistent-counts', () => {
    assertAccepted(sparsityReport());
    assertRefused(
      sparsityReport({}, [layer(600, 30, 31), layer(400, 70, 9, 'fc2')]),
      'inconsistent-counts',
      /layers\.0 \(fc1\): effective 31 > direct 30/,
    );
  });

  it('counts: a layer with direct > params is inconsistent-counts', () => {
    assertRefused(
      sparsityReport({}, [layer(600, 60, 30), layer(10, 40, 10, 'fc2')]),
      'inconsistent-counts',
      /layers\.1 \(fc2\): direct 40 > params 10/,
    );
  });

  it('counts: overall effective > direct or direct > total is inconsistent-counts', () => {
    assertRefused(
      sparsityReport({ direct: 40, effective: 100, directSparsity: 0.96, effectiveSparsity: 0.9 }, []),
      'inconsistent-counts',
      /overall: effective 100 > direct 40/,
    );
    assertRefused(
      sparsityReport({ total: 50, directSparsity: 0, effectiveSparsity: 0.2 }, []),
      'inconsistent-counts',
      /overall: direct 100 > params 50/,
    );
  });

  it('counts: overall counts that are not the sums of the layers are inconsistent-counts', () => {
    assertRefused(
      sparsityReport({}, [layer(600, 60, 30), layer(400, 40, 9, 'fc2')]),
      'inconsistent-counts',
      /not the sum of its layers \(1000, 100, 39\)/,
    );
  });

  it('sparsity: a sparsity that is not 1 − count/total is inconsistent-counts', () => {
    assertRefused(
      sparsityReport({ directSparsity: 0.8 }),
      'inconsistent-counts',
      /directSparsity 0.8 is not 1 − 100\/1000/,
    );
    assertRefused(
      sparsityReport({ effectiveSparsity: 0.97 }),
      'inconsistent-counts',
      /effectiveSparsity 0.97/,
    );
  });

  it('sparsity: effective sparsity below direct sparsity is inconsistent-counts (sparsity and completed)', () => {
    assertRefused(
      { kind: 'sparsity', layers: [], overall: { directSparsity: 0.9, effectiveSparsity: 0.8 } },
      'inconsistent-counts',
      /effectiveSparsity 0.8 < directSparsity 0.9/,
    );
    assertRefused(
      completed({ effectiveSparsity: 0.5, effectiveCompression: 2 }),
      'inconsistent-counts',
      /effectiveSparsity 0.5 < directSparsity 0.9/,
    );
    assertAccepted(completed({ effectiveSparsity: 0.9, effectiveCompression: 10 }));
  });

  it('compression: below 1, or effective below direct, is inconsistent-counts (null is infinite)', () => {
    assertRefused(completed({ directCompression: 0.5 }), 'inconsistent-counts', /directCompression 0.5 < 1/);
    assertRefused(
      completed({ effectiveCompression: 5 }),
      'inconsistent-counts',
      /effectiveCompression 5 < directCompression 10/,
    );
    assertRefused(
      completed({ directCompression: null }),
      'inconsistent-counts',
      /effectiveCompression 25 < directCompression Infinity/,
    );
    assertAccepted(completed({ effectiveSparsity: 1, effectiveCompression: null }));
  });
});
