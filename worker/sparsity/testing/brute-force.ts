import type { Architecture } from '../../arch/graph.ts';
import { layerGeometry } from '../geometry.ts';
import type { MaskSet } from '../masks.ts';

/**
 * The definition, spelled out: build every unit and every edge of the network explicitly, search
 * forward from the inputs and backward from the outputs, and call a weight effective iff one of its
 * edges joins a unit reachable from the input to a unit that reaches the output. Quadratic in the
 * network size; only for checking the fast methods on tiny networks.
 */
export function bruteForceEffective(arch: Architecture, masks: MaskSet): Uint8Array[] {
  const offsets: number[] = [];
  let units = 0;
  for (const node of arch.nodes) {
    offsets.push(units);
    units += node.shape[0] * node.shape[1] * node.shape[2];
  }
  const unit = (id: number, c: number, y: number, x: number) => {
    const [, h, w] = arch.nodes[id].shape;
    return offsets[id] + (c * h + y) * w + x;
  };
  const edges: { from: number; to: number; layer: number; weight: number }[] = [];
  const link = (from: number, to: number, layer = -1, weight = -1) => edges.push({ from, to, layer, weight });

  for (const node of arch.nodes) {
    const [c, h, w] = node.shape;
    switch (node.kind) {
      case 'conv':
      case 'dense': {
        const layer = arch.layers.findIndex((l) => l.node === node);
        const g = layerGeometry(node);
        const [inC, inH, inW] = g.inShape;
        const k = g.kernel;
        for (let o = 0; o < c; o++)
          for (let i = 0; i < inC; i++)
            for (let dy = 0; dy < k; dy++)
              for (let dx = 0; dx < k; dx++) {
                const weight = ((o * inC + i) * k + dy) * k + dx;
                if (!masks[layer][weight]) continue;
                for (let y = 0; y < h; y++)
                  for (let x = 0; x < w; x++) {
                    const sy = y * g.stride + dy - g.padTop;
                    const sx = x * g.stride + dx - g.padLeft;
                    if (sy < 0 || sx < 0 || sy >= inH || sx >= inW) continue;
                    link(unit(node.input, i, sy, sx), unit(node.id, o, y, x), layer, weight);
                  }
              }
        break;
      }
      case 'pool':
      case 'globalAvgPool': {
        const [, inH, inW] = arch.nodes[node.input].shape;
        for (let ch = 0; ch < c; ch++)
          for (let y = 0; y < h; y++)
            for (let x = 0; x < w; x++)
              for (let sy = 0; sy < inH; sy++)
                for (let sx = 0; sx < inW; sx++) {
                  const inside =
                    node.kind === 'globalAvgPool' ||
                    (sy >= y * node.stride &&
                      sy < y * node.stride + node.size &&
                      sx >= x * node.stride &&
                      sx < x * node.stride + node.size);
                  if (inside) link(unit(node.input, ch, sy, sx), unit(node.id, ch, y, x));
                }
        break;
      }
      case 'flatten': {
        const size = c * h * w;
        for (let u = 0; u < size; u++) link(offsets[node.input] + u, offsets[node.id] + u);
        break;
      }
      case 'add':
        for (const input of node.inputs)
          for (let u = 0; u < c * h * w; u++) link(offsets[input] + u, offsets[node.id] + u);
        break;
      case 'batchnorm':
      case 'relu':
        for (let u = 0; u < c * h * w; u++) link(offsets[node.input] + u, offsets[node.id] + u);
        break;
      case 'input':
        break;
    }
  }

  const search = (seeds: number[], forward: boolean) => {
    const seen = new Uint8Array(units);
    const next = new Map<number, number[]>();
    for (const e of edges) {
      const [a, b] = forward ? [e.from, e.to] : [e.to, e.from];
      const list = next.get(a);
      if (list) list.push(b);
      else next.set(a, [b]);
    }
    const stack = [...seeds];
    for (const s of seeds) seen[s] = 1;
    while (stack.length) {
      for (const b of next.get(stack.pop()!) ?? []) {
        if (!seen[b]) {
          seen[b] = 1;
          stack.push(b);
        }
      }
    }
    return seen;
  };
  const range = (id: number) => {
    const [c, h, w] = arch.nodes[id].shape;
    return Array.from({ length: c * h * w }, (_, u) => offsets[id] + u);
  };
  const fromInput = search(range(0), true);
  const toOutput = search(range(arch.nodes.length - 1), false);

  const result = arch.layers.map((layer) => new Uint8Array(layer.params));
  for (const e of edges)
    if (e.layer >= 0 && fromInput[e.from] && toOutput[e.to]) result[e.layer][e.weight] = 1;
  return result;
}
