import type { PrunableNode, Shape3 } from '../arch/graph.ts';

/** A conv or dense layer seen as a convolution (dense = 1×1 kernel on a 1×1 map). */
export interface LayerGeometry {
  readonly inShape: Shape3;
  readonly outShape: Shape3;
  readonly kernel: number;
  readonly stride: number;
  readonly padTop: number;
  readonly padLeft: number;
  /** Weights per output channel: in · k · k (the mask row length). */
  readonly fanIn: number;
}

export function layerGeometry(node: PrunableNode): LayerGeometry {
  if (node.kind === 'dense') {
    return {
      inShape: [node.inFeatures, 1, 1],
      outShape: node.shape,
      kernel: 1,
      stride: 1,
      padTop: 0,
      padLeft: 0,
      fanIn: node.inFeatures,
    };
  }
  return {
    inShape: node.inShape,
    outShape: node.shape,
    kernel: node.kernel,
    stride: node.stride,
    padTop: node.padTop,
    padLeft: node.padLeft,
    fanIn: node.inChannels * node.kernel * node.kernel,
  };
}
