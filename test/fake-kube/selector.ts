// Kubernetes label selectors (`a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x)`), as the
// API server accepts them in `?labelSelector=`.

type Requirement = (labels: Record<string, string>) => boolean;

/** Splits on commas that are not inside parentheses. */
function terms(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let k = 0; k < selector.length; k++) {
    if (selector[k] === '(') depth++;
    else if (selector[k] === ')') depth--;
    else if (selector[k] === ',' && depth === 0) {
      out.push(selector.slice(start, k));
      start = k + 1;
    }
  }
  out.push(selector.slice(start));
  return out.map((t) => t.trim()).filter(Boolean);
}

function requirement(term: string): Requirement {
  let m = /^([^\s!=(),]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
  if (m) {
    const [, key, op, list] = m;
    const values = new Set(list.split(',').map((v) => v.trim()));
    return op === 'in'
      ? (labels) => key in labels && values.has(labels[key])
      : (labels) => !(key in labels) || !values.has(labels[key]);
  }
  m = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/.exec(term);
  if (m) {
    const [, key, op, value] = m;
    return op === '!=' ? (labels) => labels[key] !== value : (labels) => labels[key] === value;
  }
  m = /^(!?)([^\s!=(),]+)$/.exec(term);
  if (m) {
    const [, not, key] = m;
    return not ? (labels) => !(key in labels) : (labels) => key in labels;
  }
  throw new SelectorError(`unable to parse requirement: ${JSON.stringify(term)}`);
}

export class SelectorError extends Error {}

/** A predicate for `selector` (empty or absent selects everything). Throws SelectorError. */
export function parseSelector(
  selector: string | null | undefined,
): (labels: Record<string, string> | undefined) => boolean {
  const requirements = terms(selector ?? '').map(requirement);
  return (labels) => requirements.every((r) => r(labels ?? {}));
}

/**
 * A predicate for a field selector (`metadata.name=x,status.phase!=Running`): each term compares the
 * value at a dotted path of the object. Throws SelectorError.
 */
export function parseFieldSelector(selector: string | null | undefined): (object: object) => boolean {
  const requirements = terms(selector ?? '').map((term) => {
    const m = /^([A-Za-z0-9.]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw new SelectorError(`invalid field selector: ${JSON.stringify(term)}`);
    const [, path, op, value] = m;
    const read = (object: object) => {
      let node: unknown = object;
      for (const key of path.split('.')) node = (node as Record<string, unknown> | undefined)?.[key];
      return node === undefined || node === null ? '' : String(node);
    };
    return op === '!=' ? (o: object) => read(o) !== value : (o: object) => read(o) === value;
  });
  return (object) => requirements.every((r) => r(object));
}
