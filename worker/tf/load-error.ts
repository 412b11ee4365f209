/**
 * Why a native tfjs backend (tfjs-node, tfjs-node-gpu) failed to load, in words a user can act on.
 * The loader's own message names a file (`libcudart.so.12: cannot open shared object file`); the
 * reader needs to know which piece of the stack that file belongs to and what to do about it.
 */

interface KnownCause {
  readonly pattern: RegExp;
  /** `$1` is the first capture of the pattern (usually the missing file). */
  readonly explain: string;
}

// First match wins: the driver before the CUDA libraries (libcuda is the driver's, not the toolkit's).
const KNOWN_CAUSES: readonly KnownCause[] = [
  {
    pattern: /(libcuda\.so[.\d]*): cannot open shared object file/,
    explain:
      'no NVIDIA driver: $1 not found (no GPU here, or the container was started without the NVIDIA runtime)',
  },
  {
    pattern: /(libcudnn[\w]*\.so[.\d]*): cannot open shared object file/,
    explain:
      'cuDNN missing: $1 not found (libtensorflow was built for another cuDNN, or cuDNN is not installed)',
  },
  {
    pattern:
      /((?:libcudart|libcublas\w*|libcufft|libcurand|libcusolver|libcusparse|libnccl)\.so[.\d]*): cannot open shared object file/,
    explain:
      'CUDA runtime missing: $1 not found (libtensorflow was built for another CUDA version, or CUDA is not on LD_LIBRARY_PATH)',
  },
  {
    pattern: /(libtensorflow\w*\.so[.\d]*): cannot open shared object file/,
    explain:
      'libtensorflow missing: $1 not found (the package install script, which downloads it, did not run)',
  },
  {
    pattern: /Cannot find module '([^']*tfjs_binding\.node)'/,
    explain: 'native binding not built: $1 is missing (the package install script did not run)',
  },
  {
    pattern: /version `(GLIBC\w*_[\d.]+)' not found/,
    explain: 'system C library too old: $1 required by libtensorflow',
  },
  {
    pattern: /CUDA driver version is insufficient/,
    explain: 'NVIDIA driver too old for the CUDA version libtensorflow was built with',
  },
];

/** One line saying why; the loader's own first line when the cause is not a known one. */
export function explainLoadError(message: string): string {
  const firstLine = message.split('\n')[0].trim();
  for (const cause of KNOWN_CAUSES) {
    const match = cause.pattern.exec(message);
    if (match) return cause.explain.replace('$1', match[1] ?? '');
  }
  return firstLine;
}
