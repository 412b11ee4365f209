import { readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize } from 'node:path';
import { InputError } from '../../common/errors.ts';
import { readInputBytes } from '../../common/validation.ts';
import { type NdArray, readNpz } from '../io/npz.ts';
import { analyze, type SparsityMethod, type SparsityReport } from '../sparsity/analysis.ts';
import { type ImportedModel, importOnnx } from './import.ts';
import { decodeModel } from './proto.ts';
import { readModelBytes } from './wasm-scan.ts';

/** External tensor data lives in files beside the model; a location may not leave that folder. */
function externalReader(modelPath: string) {
  const folder = dirname(modelPath);
  const cache = new Map<string, Uint8Array>();
  return (location: string): Uint8Array => {
    const relative = normalize(location);
    if (isAbsolute(relative) || relative.startsWith('..')) {
      throw new InputError(`external data location '${location}' lies outside the model's folder`);
    }
    let bytes = cache.get(relative);
    if (!bytes) {
      try {
        bytes = readFileSync(join(folder, relative));
      } catch {
        throw new InputError(`cannot read external data file ${join(folder, relative)}`);
      }
      cache.set(relative, bytes);
    }
    return bytes;
  };
}

/** Parses model bytes into the connectivity net and its masks (`masks` keyed by initializer name). */
export function loadOnnx(bytes: Uint8Array, source: string, masks?: Map<string, NdArray>): ImportedModel {
  const model = decodeModel(bytes, source);
  try {
    return importOnnx(model, { name: basename(source), masks, readExternal: externalReader(source) });
  } catch (error) {
    if (error instanceof InputError) throw new InputError(`${source}: ${error.message}`);
    throw error;
  }
}

/** `esweep analyze --model`: reads the model (and the masks file, when given) and analyses it. */
export async function analyzeOnnxFile(
  modelPath: string,
  masksPath: string | undefined,
  method: SparsityMethod,
): Promise<SparsityReport> {
  const bytes = readModelBytes(modelPath, 'ONNX model');
  let masks: Map<string, NdArray> | undefined;
  if (masksPath) {
    const maskBytes = await readInputBytes(masksPath, 'mask file');
    try {
      masks = readNpz(maskBytes);
    } catch (error) {
      if (error instanceof InputError) throw new InputError(`${masksPath}: ${error.message}`);
      throw error;
    }
  }
  const imported = loadOnnx(bytes, modelPath, masks);
  return analyze(imported.net, imported.masks, method);
}
