// The PATCH bodies the API server accepts: JSON merge patch (RFC 7386), JSON patch (RFC 6902), and
// strategic merge patch, which this fake applies as a merge patch (lists are replaced, not merged by
// their key).
import { ApiError } from './store.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (value: unknown): value is Record<string, Json> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function mergePatch(target: unknown, patch: unknown): Json {
  if (!isObject(patch)) return structuredClone(patch as Json);
  const out: Record<string, Json> = isObject(target) ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

interface Operation {
  op: string;
  path: string;
  value?: Json;
  from?: string;
}

const invalidPatch = (message: string) =>
  new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${message}`);

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw invalidPatch(`invalid JSON pointer ${JSON.stringify(path)}`);
  return path
    .slice(1)
    .split('/')
    .map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** The container holding the last token of `tokens`, and that token. */
function parentOf(document: Json, tokens: string[], path: string): [Json[] | Record<string, Json>, string] {
  let node: Json = document;
  for (const token of tokens.slice(0, -1)) {
    const next: Json | undefined = Array.isArray(node)
      ? node[Number(token)]
      : isObject(node)
        ? node[token]
        : undefined;
    if (next === undefined) throw invalidPatch(`path ${JSON.stringify(path)} does not exist`);
    node = next;
  }
  if (!Array.isArray(node) && !isObject(node))
    throw invalidPatch(`path ${JSON.stringify(path)} does not exist`);
  return [node, tokens[tokens.length - 1]];
}

function index(array: Json[], token: string, path: string, forInsert: boolean): number {
  if (forInsert && token === '-') return array.length;
  const k = Number(token);
  if (!/^\d+$/.test(token) || k > array.length || (!forInsert && k === array.length)) {
    throw invalidPatch(`index out of range in ${JSON.stringify(path)}`);
  }
  return k;
}

function read(document: Json, path: string): Json {
  const tokens = pointer(path);
  if (!tokens.length) return document;
  const [parent, last] = parentOf(document, tokens, path);
  const value = Array.isArray(parent) ? parent[index(parent, last, path, false)] : parent[last];
  if (value === undefined) throw invalidPatch(`path ${JSON.stringify(path)} does not exist`);
  return value;
}

function remove(document: Json, path: string): Json {
  const [parent, last] = parentOf(document, pointer(path), path);
  if (Array.isArray(parent)) return parent.splice(index(parent, last, path, false), 1)[0];
  if (!(last in parent)) throw invalidPatch(`unable to remove nonexistent key ${JSON.stringify(path)}`);
  const value = parent[last];
  delete parent[last];
  return value;
}

function add(document: Json, path: string, value: Json, replace: boolean): Json {
  const tokens = pointer(path);
  if (!tokens.length) return value;
  const [parent, last] = parentOf(document, tokens, path);
  if (Array.isArray(parent)) {
    const k = index(parent, last, path, !replace);
    parent.splice(k, replace ? 1 : 0, value);
  } else {
    if (replace && !(last in parent))
      throw invalidPatch(`unable to replace nonexistent key ${JSON.stringify(path)}`);
    parent[last] = value;
  }
  return document;
}

export function jsonPatch(target: unknown, operations: unknown): Json {
  if (!Array.isArray(operations))
    throw new ApiError(400, 'BadRequest', 'a JSON patch must be an array of operations');
  let document = structuredClone(target as Json);
  for (const raw of operations as Operation[]) {
    if (!isObject(raw) || typeof raw.path !== 'string')
      throw invalidPatch('each operation needs op and path');
    const value = structuredClone(raw.value as Json);
    switch (raw.op) {
      case 'add':
        document = add(document, raw.path, value, false);
        break;
      case 'replace':
        document = add(document, raw.path, value, true);
        break;
      case 'remove':
        remove(document, raw.path);
        break;
      case 'move':
        document = add(document, raw.path, remove(document, raw.from ?? ''), false);
        break;
      case 'copy':
        document = add(document, raw.path, structuredClone(read(document, raw.from ?? '')), false);
        break;
      case 'test':
        if (JSON.stringify(read(document, raw.path)) !== JSON.stringify(value)) {
          throw invalidPatch(`testing value ${raw.path} failed`);
        }
        break;
      default:
        throw invalidPatch(`unknown operation ${JSON.stringify(raw.op)}`);
    }
  }
  return document;
}

export type PatchType = 'merge' | 'json' | 'strategic';

/** The patch type named by a Content-Type header; 415 for server-side apply and anything else. */
export function patchType(contentType: string | undefined): PatchType {
  const type = (contentType ?? '').split(';')[0].trim();
  if (type === 'application/merge-patch+json') return 'merge';
  if (type === 'application/json-patch+json') return 'json';
  if (type === 'application/strategic-merge-patch+json') return 'strategic';
  throw new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (server-side apply is not supported by this fake)`,
  );
}

export function applyPatch(type: PatchType, target: unknown, patch: unknown): Json {
  return type === 'json' ? jsonPatch(target, patch) : mergePatch(target, patch);
}
