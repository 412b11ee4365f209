/** Finding and reading dataset files, with errors that say what is missing and what was expected. */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'fflate';
import { z } from 'zod';
import { InputError } from '../../common/errors.ts';
import { parseInput } from '../../common/validation.ts';
import type { DataSource } from './types.ts';

const envSchema = z.object({
  ESWEEP_DATA_DIR: z.string().trim().min(1, 'is set but empty').optional(),
});

/** The data directory named by ESWEEP_DATA_DIR, if any. */
export function dataDirFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return parseInput(envSchema, { ESWEEP_DATA_DIR: env.ESWEEP_DATA_DIR }, 'environment').ESWEEP_DATA_DIR;
}

/** Reports where a dataset's files are expected, for every error about them. */
export class DataFiles {
  constructor(
    readonly dataset: string,
    readonly layout: string,
  ) {}

  fail(problem: string): never {
    throw new InputError(`${this.dataset}: ${problem}; expected ${this.layout}`);
  }

  dataDir(source: DataSource): string {
    if (source.dataDir === undefined) this.fail('no data directory (pass --data-dir or set ESWEEP_DATA_DIR)');
    return source.dataDir;
  }

  async read(path: string): Promise<Uint8Array> {
    try {
      return await readFile(path);
    } catch (error) {
      if (isMissing(error)) this.fail(`missing ${path}`);
      throw error;
    }
  }

  /** Reads `path`, or else `path.gz` decompressed (datasets are often distributed gzipped). */
  async readMaybeGzipped(path: string): Promise<Uint8Array> {
    try {
      return await readFile(path);
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
    const compressed = await this.read(`${path}.gz`).catch((error: unknown) => {
      if (error instanceof InputError) this.fail(`missing ${path} (or ${path}.gz)`);
      throw error;
    });
    try {
      return gunzipSync(compressed);
    } catch (error) {
      return this.fail(`${path}.gz is not valid gzip (${error instanceof Error ? error.message : error})`);
    }
  }
}

function isMissing(error: unknown): boolean {
  const code = error instanceof Error && 'code' in error ? error.code : undefined;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}
