import assert from 'node:assert/strict';
import { test } from 'node:test';
import { consoleReporter, formatDuration, progressLine } from './console.ts';
import type { ProgressEvent } from './reporter.ts';

const progress: ProgressEvent = {
  step: 300,
  iterations: 1200,
  epoch: 1,
  loss: 0.123456,
  learningRate: 0.1,
  accuracy: 0.9712,
  elapsedSeconds: 75,
  etaSeconds: 3725,
};

test('durations read as m:ss or h:mm:ss', () => {
  assert.equal(formatDuration(75), '1:15');
  assert.equal(formatDuration(3725), '1:02:05');
  assert.equal(formatDuration(0.4), '0:00');
});

test('the progress line shows step, loss, accuracy and ETA', () => {
  const line = progressLine(progress);
  assert.match(
    line,
    /^█{6}░{18} 300\/1200 · epoch 1 · loss 0\.1235 · acc 97\.120% · lr 0\.100 · 1:15 · ETA 1:02:05$/,
  );
  assert.match(progressLine({ ...progress, accuracy: null }), / acc – /);
});

test('off a terminal every event is one JSON line; ∞ compression is null', async () => {
  const lines: string[] = [];
  const reporter = consoleReporter({ write: (text) => lines.push(text) });
  await reporter.progress(progress);
  await reporter.failed({ error: 'boom', retryable: true });
  await reporter.sparsity({
    layers: [],
    overall: {
      total: 10,
      direct: 0,
      effective: 0,
      directSparsity: 1,
      effectiveSparsity: 1,
      directCompression: Infinity,
      effectiveCompression: Infinity,
    },
  });
  const events = lines.map((line) => {
    assert.ok(line.endsWith('\n'));
    return JSON.parse(line);
  });
  assert.deepEqual(
    events.map((e) => e.kind),
    ['progress', 'failed', 'sparsity'],
  );
  assert.equal(events[0].step, 300);
  assert.ok(!Number.isNaN(Date.parse(events[0].time)));
  assert.equal(events[2].overall.effectiveCompression, null);
});

test('on a terminal the bar is redrawn in place and cleared before other lines', async () => {
  let output = '';
  const reporter = consoleReporter({
    isTTY: true,
    columns: 200,
    write: (text) => {
      output += text;
    },
  });
  await reporter.progress(progress);
  await reporter.progress({ ...progress, step: 600 });
  await reporter.metrics({ points: [{ step: 600, name: 'test/accuracy', value: 0.98 }] });
  const parts = output.split('\r');
  assert.match(parts[1], /300\/1200/);
  assert.match(parts[2], /600\/1200/);
  assert.ok(output.endsWith('\r\x1b[Kstep 600: test/accuracy 0.9800\n'), JSON.stringify(output));
});
