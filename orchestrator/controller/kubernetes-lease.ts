// The controller's leader-election lease as a coordination.k8s.io/v1 Lease in its namespace, through
// @kubernetes/client-node. Writes are conditional on the resourceVersion read (the API server answers
// 409 Conflict to a stale one), which is what makes two candidates' takeovers exclusive.
import {
  ApiException,
  CoordinationV1Api,
  type KubeConfig,
  setHeaderMiddleware,
  type V1Lease,
} from '@kubernetes/client-node';
import { type LeaseClient, LeaseConflictError, type LeaseRecord, type LeaseSpec } from './leader.ts';

export interface KubernetesLeaseOptions {
  namespace: string;
  name: string;
  /** Sent as User-Agent, so that the API server's audit log tells candidates apart. */
  userAgent: string;
}

function recordOf(lease: V1Lease): LeaseRecord {
  const spec = lease.spec ?? {};
  const epoch = new Date(0);
  return {
    resourceVersion: lease.metadata?.resourceVersion ?? '',
    spec: {
      holderIdentity: spec.holderIdentity ?? '',
      leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
      acquireTime: spec.acquireTime ? new Date(spec.acquireTime) : epoch,
      renewTime: spec.renewTime ? new Date(spec.renewTime) : epoch,
      leaseTransitions: spec.leaseTransitions ?? 0,
    },
  };
}

/**
 * A MicroTime as kube-apiserver parses it (RFC 3339 with exactly six fractional digits). client-node
 * would send a Date as toISOString() (three digits), which the API server rejects with 400; its
 * serializer passes a string through unchanged, hence the string typed as the Date it stands for.
 */
function microTime(date: Date): Date {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z') as unknown as Date;
}

type ConfigurationOptions = NonNullable<Parameters<CoordinationV1Api['readNamespacedLease']>[1]>;

const isCode = (error: unknown, code: number) => error instanceof ApiException && error.code === code;

export class KubernetesLeaseClient implements LeaseClient {
  private readonly api: CoordinationV1Api;

  constructor(
    kubeConfig: KubeConfig,
    private readonly options: KubernetesLeaseOptions,
  ) {
    this.api = kubeConfig.makeApiClient(CoordinationV1Api);
  }

  /**
   * Per request: the caller's signal (a deadline) and the User-Agent. client-node's own header
   * middleware supplies the observable its middleware chain expects; the signal is set beside it.
   */
  private requestOptions(signal: AbortSignal): ConfigurationOptions {
    const header = setHeaderMiddleware('User-Agent', this.options.userAgent);
    return {
      middleware: [
        {
          pre: (context) => {
            context.setSignal(signal);
            return header.pre(context);
          },
          post: header.post,
        },
      ],
      middlewareMergeStrategy: 'append',
    };
  }

  private body(spec: LeaseSpec, resourceVersion?: string): V1Lease {
    const { name, namespace } = this.options;
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace, ...(resourceVersion ? { resourceVersion } : {}) },
      spec: { ...spec, acquireTime: microTime(spec.acquireTime), renewTime: microTime(spec.renewTime) },
    };
  }

  async get(signal: AbortSignal): Promise<LeaseRecord | null> {
    const { name, namespace } = this.options;
    try {
      return recordOf(await this.api.readNamespacedLease({ name, namespace }, this.requestOptions(signal)));
    } catch (error) {
      if (isCode(error, 404)) return null;
      throw error;
    }
  }

  async create(spec: LeaseSpec, signal: AbortSignal): Promise<LeaseRecord> {
    const { namespace } = this.options;
    try {
      return recordOf(
        await this.api.createNamespacedLease(
          { namespace, body: this.body(spec) },
          this.requestOptions(signal),
        ),
      );
    } catch (error) {
      if (isCode(error, 409)) throw new LeaseConflictError('another candidate created the lease first');
      throw error;
    }
  }

  async update(spec: LeaseSpec, resourceVersion: string, signal: AbortSignal): Promise<LeaseRecord> {
    const { name, namespace } = this.options;
    try {
      return recordOf(
        await this.api.replaceNamespacedLease(
          { name, namespace, body: this.body(spec, resourceVersion) },
          this.requestOptions(signal),
        ),
      );
    } catch (error) {
      if (isCode(error, 409)) throw new LeaseConflictError();
      throw error;
    }
  }
}
