// One small HTTP server for the long-running processes (controller, ingester): `/healthz` (the
// process works), `/readyz` (it can do its job now) and `/metrics` (Prometheus text). Each caller
// says what healthy and ready mean for it; a check that throws counts as a failed one.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HealthEndpoints {
  healthy(): boolean | Promise<boolean>;
  ready(): boolean | Promise<boolean>;
  /** The exposition text and its content type (a prom-client Registry's). */
  metrics(): Promise<{ contentType: string; text: string }>;
}

export type HealthServer = Server & { port: number };

export function serveHealth(
  endpoints: HealthEndpoints,
  port: number,
  host = '0.0.0.0',
): Promise<HealthServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      endpoints.metrics().then(
        ({ contentType, text }) => {
          res.writeHead(200, { 'content-type': contentType });
          res.end(text);
        },
        (error: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`${String(error)}\n`);
        },
      );
    } else if (path === '/healthz' || path === '/readyz') {
      const check = path === '/readyz' ? () => endpoints.ready() : () => endpoints.healthy();
      Promise.resolve()
        .then(check)
        .catch(() => false)
        .then((ok) => {
          res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
          res.end(ok ? 'ok\n' : 'unhealthy\n');
        });
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () =>
      resolve(Object.assign(server, { port: (server.address() as AddressInfo).port })),
    );
  });
}
