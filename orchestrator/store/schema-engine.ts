// Loads @prisma/schema-engine-wasm in Node 20. Its package entry imports the .wasm file as an ES
// module, which Node 20 cannot do, so we instantiate the bytes ourselves and hand the exports to the
// wasm-bindgen glue (what the entry would have done).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { SchemaEngine } from '@prisma/schema-engine-wasm';

// lib ES2023 has no WebAssembly typings; the global exists in Node.
interface WasmApi {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, unknown>,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>;
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

type Glue = typeof import('@prisma/schema-engine-wasm/schema_engine_bg') & {
  __wbg_set_wasm(exports: Record<string, unknown>): void;
};

let loading: Promise<typeof SchemaEngine> | undefined;

export function loadSchemaEngine(): Promise<typeof SchemaEngine> {
  loading ??= (async () => {
    const require = createRequire(import.meta.url);
    const dir = dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg'));
    const glue = (await import('@prisma/schema-engine-wasm/schema_engine_bg')) as Glue;
    const bytes = await readFile(join(dir, 'schema_engine_bg.wasm'));
    const { instance } = await wasmApi.instantiate(bytes, { './schema_engine_bg.js': glue });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return glue.SchemaEngine;
  })();
  return loading;
}
