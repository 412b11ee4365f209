// What every container of the stack gets: a non-root, read-only-root-filesystem security context
// with no privilege escalation and no capabilities, and writable scratch space only where mounted.
import type * as k8s from '@pulumi/kubernetes';

export function containerSecurity(uid: number): k8s.types.input.core.v1.SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** An emptyDir volume and its mount, for a path a read-only-root container must write (e.g. /tmp). */
export function scratch(name: string, mountPath: string) {
  return {
    volume: { name, emptyDir: {} },
    mount: { name, mountPath },
  };
}

/** `app.kubernetes.io/*` labels; `component` also selects the pods in Services and NetworkPolicies. */
export function labelsFor(component: string): Record<string, string> {
  return { 'app.kubernetes.io/part-of': 'esweep', 'app.kubernetes.io/component': component };
}
