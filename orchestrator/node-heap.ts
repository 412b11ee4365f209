// How esweep's long-running Node processes are started where they are deployed (their Kubernetes
// Deployments, and the benches that measure them as deployed). Batch writes and list pages leave
// large garbage that V8 frees only in a full collection; a bounded old space makes it collect before
// the pod's memory grows toward its limit. Both stay well inside their containers' limits.
export const INGESTER_HEAP_MB = 192;
export const CONTROLLER_HEAP_MB = 256;

/** The NODE_OPTIONS that bound a process's V8 old space to `mb` megabytes. */
export const heapLimitOptions = (mb: number): string => `--max-old-space-size=${mb}`;
