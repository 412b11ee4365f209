// The shapes of the stack's single-replica workloads (Deployments and StatefulSets): one pod under a
// non-root pod security context, and the data volume claim of a StatefulSet.
import type * as k8s from '@pulumi/kubernetes';

function podSecurity(uid: number): k8s.types.input.core.v1.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/**
 * One pod's worth of a Deployment or StatefulSet spec: one replica, selected by `labels`, under the
 * pod security context above and (unless `pod` says otherwise) without a service-account token.
 */
export function singlePod(labels: Record<string, string>, uid: number, pod: k8s.types.input.core.v1.PodSpec) {
  return {
    replicas: 1,
    selector: { matchLabels: labels },
    template: {
      metadata: { labels },
      spec: { securityContext: podSecurity(uid), automountServiceAccountToken: false, ...pod },
    },
  };
}

/** The `data` volume claim template of a single-replica StatefulSet (NATS JetStream, PostgreSQL). */
export function dataClaimTemplate(
  className: string | undefined,
  size: string,
): k8s.types.input.core.v1.PersistentVolumeClaim {
  return {
    metadata: { name: 'data' },
    spec: {
      accessModes: ['ReadWriteOnce'],
      storageClassName: className,
      resources: { requests: { storage: size } },
    },
  };
}
