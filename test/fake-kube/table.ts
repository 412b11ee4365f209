// Server-side printing (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`, what `kubectl get`
// asks for): a meta.k8s.io/v1 Table with a Name column, the type's printer columns and Age.
import type { PrinterColumn, ResourceType } from './registry.ts';
import type { KubeObject } from './store.ts';

/** Whether the Accept header asks for a Table. */
export const wantsTable = (accept: string | undefined) => /;\s*as=Table/.test(accept ?? '');

/** A duration as kubectl prints ages: 42s, 5m, 3h, 2d. */
function age(timestamp: string | undefined): string {
  if (!timestamp) return '<unknown>';
  const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(timestamp)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

/**
 * The JSONPath subset printer columns use: `.a.b`, `.a[0]`, `.a[?(@.type=="Ready")].status`.
 * Returns undefined when the path leads nowhere.
 */
export function jsonPath(object: unknown, path: string): unknown {
  const steps =
    path.match(/\.[A-Za-z0-9_-]+|\[\d+\]|\[\?\(@\.[A-Za-z0-9_-]+\s*==\s*(?:"[^"]*"|'[^']*')\)\]/g) ?? [];
  let node: unknown = object;
  for (const step of steps) {
    if (node === undefined || node === null) return undefined;
    if (step.startsWith('.')) node = (node as Record<string, unknown>)[step.slice(1)];
    else if (step.startsWith('[?')) {
      const [, key, quoted] = /@\.([A-Za-z0-9_-]+)\s*==\s*(.*)\)\]$/.exec(step)!;
      const wanted = quoted.slice(1, -1);
      node = Array.isArray(node) ? node.find((item) => String(item?.[key]) === wanted) : undefined;
    } else node = Array.isArray(node) ? node[Number(step.slice(1, -1))] : undefined;
  }
  return node;
}

function cell(column: PrinterColumn, object: KubeObject): unknown {
  const value = jsonPath(object, column.jsonPath);
  if (value === undefined || value === null) return null;
  if (column.type === 'date') return age(String(value));
  if (column.type === 'integer' || column.type === 'number' || column.type === 'boolean') return value;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function table(type: ResourceType, objects: KubeObject[], resourceVersion: string) {
  const columns = (type.printerColumns ?? []).filter((c) => c.jsonPath !== '.metadata.creationTimestamp');
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: [
      { name: 'Name', type: 'string', format: 'name', description: 'Name of the object', priority: 0 },
      ...columns.map((c) => ({
        name: c.name,
        type: c.type,
        format: c.format ?? '',
        description: c.description ?? '',
        priority: c.priority ?? 0,
      })),
      { name: 'Age', type: 'date', format: '', description: 'CreationTimestamp', priority: 0 },
    ],
    rows: objects.map((object) => ({
      cells: [
        object.metadata.name,
        ...columns.map((c) => cell(c, object)),
        age(object.metadata.creationTimestamp),
      ],
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata },
    })),
  };
}
