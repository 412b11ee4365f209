// `esweep ingest` through the real binary: connection attempts are logged and given up at the
// deadline with the unreachable-service code; the health endpoints answer while it ingests.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { SERVICE_UNAVAILABLE_EXIT_CODE } from '../../../common/errors.ts';
import { waitFor } from '../../../test/support/wait.ts';
import { connectNats } from '../../events/nats.ts';
import { deleteStreams, TEST_NATS_URL, uniqueNames } from '../../events/test-support.ts';
import { ESWEEP_BIN } from '../../project-root.ts';
import { createTestDatabase, type TestDatabase, urlFor } from '../../store/test-support.ts';
import { runCli } from '../run-cli.ts';

describe('esweep ingest', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('ingestcli');
  });
  after(async () => {
    await db?.dispose();
  });

  test('logs every failed NATS connection attempt and exits 69 at its deadline', async () => {
    const result = await runCli([
      'ingest',
      '--database',
      urlFor(db.name),
      '--nats',
      'nats://127.0.0.1:1',
      '--connect-deadline',
      '2',
    ]);
    assert.equal(result.code, SERVICE_UNAVAILABLE_EXIT_CODE, result.stderr);
    const attempts = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .filter((entry) => entry.msg === 'nats connect failed');
    assert.ok(attempts.length >= 2, result.stdout);
    assert.ok(attempts.every((a) => a.servers === 'nats://127.0.0.1:1' && a.error && a.retryInMs >= 0));
    assert.match(result.stderr, /^esweep: cannot reach NATS at nats:\/\/127.0.0.1:1 after \d+ attempts/);
  });

  test('serves /healthz, /readyz and /metrics while it ingests', async () => {
    const names = uniqueNames('cli');
    const child = spawn(
      process.execPath,
      [
        ESWEEP_BIN,
        'ingest',
        '--database',
        urlFor(db.name),
        '--nats',
        TEST_NATS_URL,
        '--stream',
        names.stream,
        '--prefix',
        names.prefix,
        '--stream-max-mb',
        '16',
        '--dlq-max-mb',
        '4',
        '--artifact-bucket',
        `t-${names.prefix}`,
        '--metrics-port',
        '0',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    const exited = once(child, 'exit');
    try {
      await waitFor('ingesting', () => stdout.includes('"ingesting"'), { timeoutMs: 60_000 });
      const { port } = JSON.parse(stdout.split('\n').find((l) => l.includes('/healthz'))!);
      const get = (path: string) => fetch(`http://127.0.0.1:${port}${path}`);
      assert.equal((await get('/healthz')).status, 200);
      assert.equal((await get('/readyz')).status, 200);
      const text = await (await get('/metrics')).text();
      for (const metric of [
        'esweep_ingest_deliveries_total 0',
        'esweep_ingest_in_flight_messages 0',
        'esweep_ingest_consumer_lag_messages{state="pending"} 0',
        'esweep_ingest_write_duration_seconds_count 0',
      ]) {
        assert.ok(text.includes(metric), `${metric} in\n${text}`);
      }
      assert.equal((await get('/nothing')).status, 404);
      child.kill('SIGTERM');
      const [code] = await exited;
      assert.equal(code, 0, stdout);
    } finally {
      child.kill();
      const nc = await connectNats({ servers: TEST_NATS_URL });
      await deleteStreams(nc, names);
      const { Objm } = await import('@nats-io/obj');
      await (await new Objm(nc).open(`t-${names.prefix}`)).destroy().catch(() => {});
      await nc.close();
    }
  });
});
