import type * as k8s from '@pulumi/kubernetes';

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
