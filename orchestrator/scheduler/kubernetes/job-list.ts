// Jobs as the backend keeps them: a zod projection of the few fields the controller decides on, and
// list pages read straight from the response (JSON.parse, then each Job projected), without the
// typed copy that client-node's generated API makes of every field of every Job first: a re-list
// reads thousands of whole Jobs, and that copy costs memory and CPU for fields never read.
import { ApiException, type Configuration, HttpMethod, type KubernetesObject } from '@kubernetes/client-node';
import { z } from 'zod';
import { parseInput } from '../../../common/validation.ts';

const condition = z.object({
  type: z.string(),
  status: z.string(),
  reason: z.string().optional(),
  message: z.string().optional(),
  lastTransitionTime: z.string().optional(),
});

/**
 * A Job cut down to what `runStatusOf` reads (name, labels, suspend, active, conditions) and what
 * the informer needs (namespace, resourceVersion). Unknown fields are dropped, not rejected.
 */
export const slimJobSchema = z.object({
  metadata: z.object({
    name: z.string().min(1),
    namespace: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    resourceVersion: z.string().optional(),
  }),
  spec: z.object({ suspend: z.boolean().optional() }).optional(),
  status: z
    .object({
      active: z.number().int().optional(),
      conditions: z.array(condition).optional(),
    })
    .optional(),
});

export type SlimJob = z.output<typeof slimJobSchema> & KubernetesObject;

/** A Job (from a list or a watch event) projected to a {@link SlimJob}; `where` names it in errors. */
export function projectJob(job: unknown, where: string): SlimJob {
  return parseInput(slimJobSchema, job, where);
}

const listEnvelope = z.object({
  metadata: z.object({ resourceVersion: z.string().optional(), continue: z.string().optional() }).optional(),
  items: z.array(z.unknown()).nullable(),
});

export interface JobListPage {
  items: SlimJob[];
  resourceVersion?: string;
  /** The token of the next page; absent on the last one. */
  continue?: string;
}

/** One page of a JobList response body; an invalid Job fails the page, naming it. */
export function parseJobListPage(text: string): JobListPage {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new Error(`list of Jobs: the response is not JSON (${(error as Error).message})`);
  }
  const page = parseInput(listEnvelope, body, 'list of Jobs');
  const items = (page.items ?? []).map((item, k) => {
    const name = (item as { metadata?: { name?: unknown } } | null)?.metadata?.name;
    return projectJob(item, `list of Jobs: items[${k}]${typeof name === 'string' ? ` (${name})` : ''}`);
  });
  return {
    items,
    resourceVersion: page.metadata?.resourceVersion,
    continue: page.metadata?.continue || undefined,
  };
}

export interface JobListQuery {
  labelSelector?: string;
  limit?: number;
  continue?: string;
}

/**
 * GET one page of a namespace's Jobs through `configuration` (its server, authentication and HTTP
 * library, as the generated API sends them), as text for {@link parseJobListPage}. An answer other
 * than 2xx throws the ApiException that the generated API would, so retries (retry.ts) treat it the
 * same.
 */
export async function getJobListText(
  configuration: Configuration,
  namespace: string,
  query: JobListQuery,
): Promise<string> {
  const context = configuration.baseServer.makeRequestContext(
    `/apis/batch/v1/namespaces/${encodeURIComponent(namespace)}/jobs`,
    HttpMethod.GET,
  );
  context.setHeaderParam('Accept', 'application/json');
  for (const [key, value] of Object.entries(query))
    if (value !== undefined) context.setQueryParam(key, String(value));
  await configuration.authMethods.default?.applySecurityAuthentication(context);
  const response = await configuration.httpApi.send(context).toPromise();
  const code = response.httpStatusCode;
  if (code < 200 || code > 299)
    throw new ApiException(code, `list jobs: HTTP ${code}`, await response.getBodyAsAny(), response.headers);
  return response.body.text();
}
