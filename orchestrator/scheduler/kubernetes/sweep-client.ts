// Sweep custom resources (esweep.dev) through the Kubernetes API: what the CLI does with one object
// (create, update, get, delete) and what the controller needs (an informer over the namespace's
// Sweeps, finalizers, the status subresource). Writes ask for strict field validation, so an unknown
// field in a spec is refused, as the sweep file's schema refuses it.
import {
  ApiException,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  ListWatch,
  Watch,
} from '@kubernetes/client-node';
import { z } from 'zod';
import { InputError, ServiceUnavailableError } from '../../../common/errors.ts';
import {
  SWEEP_API_VERSION,
  SWEEP_GROUP,
  SWEEP_KIND,
  SWEEP_PLURAL,
  SWEEP_VERSION,
  type SweepObject,
  type SweepResourceStatus,
} from '../../sweep/resource.ts';
import { kubeConfigFor } from './backend.ts';
import { dnsLabel, kubernetesConfigSchema } from './config.ts';

/** Where the Sweeps are: the backend settings' API server and namespace, none of the rest. */
export const sweepApiSettingsSchema = z.object({
  server: kubernetesConfigSchema.shape.server,
  skipTLSVerify: kubernetesConfigSchema.shape.skipTLSVerify,
  namespace: dnsLabel.optional(),
});
export type SweepApiSettings = z.output<typeof sweepApiSettingsSchema>;

const where = (namespace: string) => ({
  group: SWEEP_GROUP,
  version: SWEEP_VERSION,
  namespace,
  plural: SWEEP_PLURAL,
});

/** The API server's own words for a refused request (its Status message), else the exception's. */
export function apiMessage(error: unknown): string {
  if (error instanceof ApiException) {
    try {
      const body = typeof error.body === 'string' ? JSON.parse(error.body) : error.body;
      if (body && typeof body.message === 'string') return body.message;
    } catch {
      // Not a Status document: the exception's message below.
    }
    return `HTTP ${error.code}`;
  }
  return error instanceof Error ? error.message : String(error);
}

export const statusCode = (error: unknown) => (error instanceof ApiException ? error.code : undefined);

export class SweepClient {
  readonly namespace: string;
  private readonly api: CustomObjectsApi;
  /** Raw JSON, read as SweepObject (client-node's object type claims Date timestamps; JSON has strings). */
  private readonly informer: ListWatch<KubernetesObject>;
  private readonly cache = new Map<string, SweepObject>();
  private readonly listeners = new Set<() => void>();
  private starting: Promise<void> | null = null;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    settings: SweepApiSettings,
    private readonly options: { onError?: (error: unknown) => void; restartDelayMs?: number } = {},
    kubeConfig: KubeConfig = kubeConfigFor({ ...settings, namespace: settings.namespace ?? 'default' }),
  ) {
    this.namespace =
      settings.namespace ??
      kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace ??
      'default';
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
    const path = `/apis/${SWEEP_GROUP}/${SWEEP_VERSION}/namespaces/${this.namespace}/${SWEEP_PLURAL}`;
    const list = () => this.api.listNamespacedCustomObject(where(this.namespace));
    this.informer = new ListWatch<KubernetesObject>(path, new Watch(kubeConfig), list, false);
    const update = (raw: KubernetesObject) => {
      const object = raw as unknown as SweepObject;
      this.cache.set(object.metadata.name, object);
      this.notify();
    };
    this.informer.on('add', update);
    this.informer.on('update', update);
    this.informer.on('delete', (raw) => {
      this.cache.delete(raw.metadata?.name ?? '');
      this.notify();
    });
    // makeInformer re-lists by itself on 410 Gone; any other error stops it, so start it again.
    this.informer.on('error', (error) => {
      this.options.onError?.(error);
      this.restartLater();
    });
  }

  async get(name: string): Promise<SweepObject | null> {
    try {
      return await this.api.getNamespacedCustomObject({ ...where(this.namespace), name });
    } catch (error) {
      if (statusCode(error) === 404) return null;
      throw error;
    }
  }

  /** Creates the object, or replaces the spec of the one of that name. */
  async apply(name: string, spec: unknown): Promise<{ object: SweepObject; created: boolean }> {
    const body = { apiVersion: SWEEP_API_VERSION, kind: SWEEP_KIND, metadata: { name }, spec };
    try {
      const object = await this.api.createNamespacedCustomObject({
        ...where(this.namespace),
        body,
        fieldValidation: 'Strict',
      });
      return { object, created: true };
    } catch (error) {
      if (statusCode(error) !== 409) throw error;
    }
    const existing = await this.get(name);
    if (!existing) throw new Error(`sweep ${name} vanished while being updated`);
    const object = await this.api.replaceNamespacedCustomObject({
      ...where(this.namespace),
      name,
      body: { ...existing, spec },
      fieldValidation: 'Strict',
    });
    return { object, created: false };
  }

  /** Deletes the object (its finalizer holds it until the controller cancelled the sweep); false if absent. */
  async delete(name: string): Promise<boolean> {
    try {
      await this.api.deleteNamespacedCustomObject({ ...where(this.namespace), name });
      return true;
    } catch (error) {
      if (statusCode(error) === 404) return false;
      throw error;
    }
  }

  // The controller's side: an informer over the namespace's Sweeps.

  /**
   * Lists and watches the namespace's Sweeps. A failed first list (the CRD not installed yet, the API
   * server away) is reported and retried, not thrown: the controller runs its Jobs meanwhile.
   */
  start(): Promise<void> {
    this.stopped = false;
    this.starting ??= this.informer.start().catch((error) => {
      this.options.onError?.(error);
      this.restartLater();
    });
    return this.starting;
  }

  private restartLater(): void {
    if (this.stopped) return;
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      this.informer.start().catch((error) => {
        this.options.onError?.(error);
        this.restartLater();
      });
    }, this.options.restartDelayMs ?? 1000);
  }

  objects(): SweepObject[] {
    return [...this.cache.values()];
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  async setFinalizers(object: SweepObject, finalizers: string[]): Promise<void> {
    const body = { ...object, metadata: { ...object.metadata, finalizers } };
    try {
      const updated = await this.api.replaceNamespacedCustomObject({
        ...where(this.namespace),
        name: object.metadata.name,
        body,
      });
      this.cache.set(object.metadata.name, updated);
    } catch (error) {
      // Gone: nothing left to hold (a finalizer removed by another controller, say).
      if (statusCode(error) !== 404) throw error;
    }
  }

  async writeStatus(object: SweepObject, status: SweepResourceStatus): Promise<void> {
    try {
      const updated = await this.api.replaceNamespacedCustomObjectStatus({
        ...where(this.namespace),
        name: object.metadata.name,
        body: { ...object, status },
      });
      this.cache.set(object.metadata.name, updated);
    } catch (error) {
      // A newer object (the watch brings it and the next pass writes again) or none at all.
      if (statusCode(error) === 409 || statusCode(error) === 404) return;
      throw error;
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    if (this.starting) await this.informer.stop();
    this.starting = null;
    this.listeners.clear();
  }
}

/**
 * A failed request as one line for the CLI: a refused one (bad spec, no permission, no such resource
 * type) is the user's to fix (exit 2); no answer at all, or no usable kubeconfig, is a service that
 * cannot be reached (exit 69).
 */
export function sweepRequestError(error: unknown, what: string): Error {
  const code = statusCode(error);
  if (code === 422 || code === 400)
    return new InputError(`${what}: the API server refused it: ${apiMessage(error)}`);
  if (code === 403 || code === 401) return new InputError(`${what}: forbidden: ${apiMessage(error)}`);
  if (code === 404)
    return new InputError(
      `${what}: ${apiMessage(error)} (is the Sweep CRD installed? see docs/sweep-resource.md)`,
    );
  if (code === undefined)
    return new ServiceUnavailableError(
      `${what}: cannot reach the Kubernetes API: ${apiMessage(error)} (give --cluster or set up a kubeconfig)`,
    );
  return error instanceof Error ? error : new Error(String(error));
}
