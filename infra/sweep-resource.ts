// The Sweep custom resource on the cluster: its CRD (generated from the sweep file's zod schema by
// orchestrator/sweep/crd.ts, never written by hand), and the namespaced Role `esweep-user` that an
// administrator binds to researchers: they launch, watch and cancel sweeps through the API server,
// and need no database credentials. The controller's verbs on Sweeps are in SWEEP_CONTROLLER_RULES.
import * as k8s from '@pulumi/kubernetes';
import type * as pulumi from '@pulumi/pulumi';
import { sweepCrd } from '../orchestrator/sweep/crd.ts';
import { SWEEP_GROUP, SWEEP_PLURAL } from '../orchestrator/sweep/resource.ts';

export const USER_ROLE = 'esweep-user';

/** What the controller does with Sweeps: watch them, set its finalizer (update), write their status. */
export const SWEEP_CONTROLLER_RULES = [
  { apiGroups: [SWEEP_GROUP], resources: [SWEEP_PLURAL], verbs: ['get', 'list', 'watch', 'update'] },
  {
    apiGroups: [SWEEP_GROUP],
    resources: [`${SWEEP_PLURAL}/status`, `${SWEEP_PLURAL}/finalizers`],
    verbs: ['update'],
  },
];

/** A researcher's verbs: launch, read and cancel (delete) Sweeps; nothing else in the namespace. */
export const USER_RULES = [
  {
    apiGroups: [SWEEP_GROUP],
    resources: [SWEEP_PLURAL],
    verbs: ['create', 'get', 'list', 'watch', 'delete'],
  },
];

export function createSweepResource(namespace: pulumi.Input<string>) {
  const crd = new k8s.apiextensions.v1.CustomResourceDefinition(
    'sweep-crd',
    sweepCrd() as k8s.types.input.apiextensions.v1.CustomResourceDefinition,
  );
  const userRole = new k8s.rbac.v1.Role('user', {
    metadata: { name: USER_ROLE, namespace },
    rules: USER_RULES,
  });
  return { crd, userRole };
}
