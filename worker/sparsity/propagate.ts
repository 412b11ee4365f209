import type { PackedMask } from './bits.ts';
import {
  type Net,
  type NetConcat,
  type NetLayer,
  type NetLinks,
  type NetNode,
  type NetPool,
  netInputsOf,
  type Shape3,
} from './net.ts';

/**
 * How one representation of "which units are connected" moves through each kind of node.
 * Batch norm and activations are identities for connectivity (BN removed, activations linearised),
 * so the walker handles them. Every method returns a fresh map and never mutates its arguments.
 */
export interface ConnectivityAlgebra<M> {
  full(shape: Shape3): M;
  union(a: M, b: M): M;
  layer(node: NetLayer, mask: PackedMask, alive: M): M;
  layerBack(node: NetLayer, mask: PackedMask, reach: M): M;
  pool(node: NetPool, alive: M): M;
  poolBack(node: NetPool, reach: M): M;
  concat(node: NetConcat, alive: readonly M[]): M;
  /** One map per input, in order. */
  concatBack(node: NetConcat, reach: M, inShapes: readonly Shape3[]): M[];
  links(node: NetLinks, alive: readonly M[]): M;
  linksBack(node: NetLinks, reach: M, inShapes: readonly Shape3[]): M[];
  /** Counts the layer's effective weights; writes the 0/1 effective mask into `out` when given. */
  effective(node: NetLayer, mask: PackedMask, aliveIn: M, reachOut: M, out: Uint8Array | null): number;
}

export interface LayerConnectivity {
  effective: number;
  /** The effective mask, when requested. */
  mask: Uint8Array | null;
}

function forwardNode<M>(
  alg: ConnectivityAlgebra<M>,
  node: NetNode,
  alive: M[],
  masks: Map<number, PackedMask>,
): M {
  switch (node.kind) {
    case 'input':
      return alg.full(node.shape);
    case 'layer':
      return alg.layer(node, masks.get(node.id)!, alive[node.input]);
    case 'pool':
      return alg.pool(node, alive[node.input]);
    case 'concat':
      return alg.concat(
        node,
        node.inputs.map((id) => alive[id]),
      );
    case 'links':
      return alg.links(
        node,
        node.inputs.map((id) => alive[id]),
      );
    case 'sum':
      return node.inputs.slice(1).reduce((acc, id) => alg.union(acc, alive[id]), alive[node.inputs[0]]);
    case 'identity':
      return alive[node.input];
  }
}

/** What `node`'s reach map contributes to the reach map of each of its inputs, in order. */
function backwardNode<M>(
  alg: ConnectivityAlgebra<M>,
  net: Net,
  node: NetNode,
  reach: M,
  masks: Map<number, PackedMask>,
): M[] {
  const inShapes = () => netInputsOf(node).map((id) => net.nodes[id].shape);
  switch (node.kind) {
    case 'layer':
      return [alg.layerBack(node, masks.get(node.id)!, reach)];
    case 'pool':
      return [alg.poolBack(node, reach)];
    case 'concat':
      return alg.concatBack(node, reach, inShapes());
    case 'links':
      return alg.linksBack(node, reach, inShapes());
    case 'sum':
      return node.inputs.map(() => reach);
    case 'identity':
      return [reach];
    case 'input':
      return [];
  }
}

/**
 * Forward "alive" maps (reachable from an input) and backward "reach" maps (reach an output),
 * then each prunable weight is effective iff it is kept, its input unit is alive and its output
 * unit reaches an output.
 */
export function propagate<M>(
  alg: ConnectivityAlgebra<M>,
  net: Net,
  masks: readonly PackedMask[],
  wantMasks: boolean,
): LayerConnectivity[] {
  const maskByNode = new Map(net.layers.map((layer, k) => [layer.node.id, masks[k]]));
  const alive: M[] = [];
  for (const node of net.nodes) alive.push(forwardNode(alg, node, alive, maskByNode));

  const reach: (M | undefined)[] = new Array(net.nodes.length);
  for (const id of net.outputs) reach[id] = alg.full(net.nodes[id].shape);
  for (let id = net.nodes.length - 1; id >= 0; id--) {
    const node = net.nodes[id];
    const own = reach[id];
    if (own === undefined) continue;
    const contributions = backwardNode(alg, net, node, own, maskByNode);
    netInputsOf(node).forEach((input, k) => {
      const current = reach[input];
      const contribution = contributions[k];
      reach[input] = current === undefined ? contribution : alg.union(current, contribution);
    });
  }

  return net.layers.map((layer, k) => {
    const node = layer.node;
    const out = wantMasks ? new Uint8Array(layer.params) : null;
    const reachOut = reach[node.id];
    if (reachOut === undefined) return { effective: 0, mask: out };
    return { effective: alg.effective(node, masks[k], alive[node.input], reachOut, out), mask: out };
  });
}
