// NATS operator mode (docs/security.md): the Secret an operator makes from `esweep nats-bootstrap`'s
// files (`kubectl create secret generic esweep-nats-operator --from-file=auth.conf
// --from-file=account-signing.nk --from-file=ingester.creds`). Each pod mounts only the file it
// needs: the server its trust configuration, the controller the account signing key, the ingester
// its credentials.
import type * as k8s from '@pulumi/kubernetes';
import type { InfraConfig } from './config.ts';

export const OPERATOR_FILES = {
  /** The trust chain, included by the server's configuration. */
  auth: 'auth.conf',
  signingKey: 'account-signing.nk',
  ingester: 'ingester.creds',
} as const;

/** Where the controller and the ingester find their file. */
export const NATS_AUTH_DIR = '/etc/esweep-nats';

/** The operator-mode settings, or undefined for the shared-password server. */
export const operatorMode = (config: InfraConfig) => config.nats.operator;

/** A read-only volume with one file of the operator Secret, its mount, and the file's path. */
export function operatorFile(secret: string, file: string) {
  const volume: k8s.types.input.core.v1.Volume = {
    name: 'nats-auth',
    // Group-readable: the pods run as a non-root user with fsGroup.
    secret: { secretName: secret, items: [{ key: file, path: file }], defaultMode: 0o440 },
  };
  return {
    volume,
    mount: { name: 'nats-auth', mountPath: NATS_AUTH_DIR, readOnly: true },
    path: `${NATS_AUTH_DIR}/${file}`,
  };
}
