import { spawn } from 'node:child_process';
import { ESWEEP_BIN } from '../project-root.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real `esweep` binary as users do (for tests and scripts that drive the CLI); `bin` may
 * name another build of it, such as the bundle.
 */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  bin = ESWEEP_BIN,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
