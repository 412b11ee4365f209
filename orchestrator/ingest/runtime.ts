// How the ingester's Node process is started where esweep deploys it (the Kubernetes Deployment, and
// bench:ingest, which measures it as deployed). Its batch writes leave megabyte-sized garbage that V8
// frees only in a full collection; a bounded old space makes it collect before the pod's memory grows.
export const INGESTER_HEAP_MB = 192;
export const INGESTER_NODE_OPTIONS = `--max-old-space-size=${INGESTER_HEAP_MB}`;
