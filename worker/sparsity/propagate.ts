import type {
  Architecture,
  FlattenNode,
  GlobalAvgPoolNode,
  GraphNode,
  PoolNode,
  PrunableNode,
  Shape3,
} from '../arch/graph.ts';
import { inputsOf } from '../arch/graph.ts';
import type { MaskSet } from './masks.ts';

/**
 * How one representation of "which units are connected" moves through each kind of node.
 * Batch norm and ReLU are identities for connectivity (BN removed, activations linearised), so the
 * walker handles them. Every method returns a fresh map and never mutates its arguments.
 */
export interface ConnectivityAlgebra<M> {
  full(shape: Shape3): M;
  union(a: M, b: M): M;
  layer(node: PrunableNode, mask: Uint8Array, alive: M): M;
  layerBack(node: PrunableNode, mask: Uint8Array, reach: M): M;
  pool(node: PoolNode | GlobalAvgPoolNode, alive: M): M;
  poolBack(node: PoolNode | GlobalAvgPoolNode, reach: M, inShape: Shape3): M;
  flatten(node: FlattenNode, alive: M): M;
  flattenBack(node: FlattenNode, reach: M, inShape: Shape3): M;
  /** Counts the layer's effective weights; writes the 0/1 effective mask into `out` when given. */
  effective(node: PrunableNode, mask: Uint8Array, aliveIn: M, reachOut: M, out: Uint8Array | null): number;
}

export interface LayerConnectivity {
  effective: number;
  /** The effective mask, when requested. */
  mask: Uint8Array | null;
}

function forwardNode<M>(
  alg: ConnectivityAlgebra<M>,
  node: GraphNode,
  alive: M[],
  masks: Map<number, Uint8Array>,
): M {
  switch (node.kind) {
    case 'input':
      return alg.full(node.shape);
    case 'conv':
    case 'dense':
      return alg.layer(node, masks.get(node.id)!, alive[node.input]);
    case 'pool':
    case 'globalAvgPool':
      return alg.pool(node, alive[node.input]);
    case 'flatten':
      return alg.flatten(node, alive[node.input]);
    case 'add':
      return alg.union(alive[node.inputs[0]], alive[node.inputs[1]]);
    case 'batchnorm':
    case 'relu':
      return alive[node.input];
  }
}

/** What `node`'s reach map contributes to the reach map of each of its inputs. */
function backwardNode<M>(
  alg: ConnectivityAlgebra<M>,
  arch: Architecture,
  node: GraphNode,
  reach: M,
  masks: Map<number, Uint8Array>,
): M {
  switch (node.kind) {
    case 'conv':
    case 'dense':
      return alg.layerBack(node, masks.get(node.id)!, reach);
    case 'pool':
    case 'globalAvgPool':
      return alg.poolBack(node, reach, arch.nodes[node.input].shape);
    case 'flatten':
      return alg.flattenBack(node, reach, arch.nodes[node.input].shape);
    default:
      return reach;
  }
}

/**
 * Forward "alive" maps (reachable from the input) and backward "reach" maps (reach the output),
 * then each prunable weight is effective iff it is kept, its input unit is alive and its output
 * unit reaches the output.
 */
export function propagate<M>(
  alg: ConnectivityAlgebra<M>,
  arch: Architecture,
  masks: MaskSet,
  wantMasks: boolean,
): LayerConnectivity[] {
  const maskByNode = new Map(arch.layers.map((layer, k) => [layer.node.id, masks[k]]));
  const alive: M[] = [];
  for (const node of arch.nodes) alive.push(forwardNode(alg, node, alive, maskByNode));

  const reach: (M | undefined)[] = new Array(arch.nodes.length);
  const output = arch.nodes[arch.nodes.length - 1];
  reach[output.id] = alg.full(output.shape);
  for (let id = arch.nodes.length - 1; id > 0; id--) {
    const node = arch.nodes[id];
    const own = reach[id];
    if (own === undefined) continue;
    const contribution = backwardNode(alg, arch, node, own, maskByNode);
    for (const input of inputsOf(node)) {
      const current = reach[input];
      reach[input] = current === undefined ? contribution : alg.union(current, contribution);
    }
  }

  return arch.layers.map((layer, k) => {
    const node = layer.node;
    const out = wantMasks ? new Uint8Array(layer.params) : null;
    const reachOut = reach[node.id];
    if (reachOut === undefined) return { effective: 0, mask: out };
    return { effective: alg.effective(node, masks[k], alive[node.input], reachOut, out), mask: out };
  });
}
