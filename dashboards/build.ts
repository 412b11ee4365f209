// `npm run dashboards:build -- --out DIR`: writes every dashboard's JSON into DIR.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { dashboardFiles } from './index.ts';

const options = z
  .object({ out: z.string().min(1) })
  .parse(
    new Command('dashboards:build')
      .description('Build the Grafana dashboards to JSON files')
      .requiredOption('--out <dir>', 'output folder (created if missing)')
      .parse()
      .opts(),
  );
const dir = resolve(options.out);
mkdirSync(dir, { recursive: true });
for (const [file, json] of Object.entries(dashboardFiles())) {
  writeFileSync(join(dir, file), json);
  console.log(join(dir, file));
}
