import type { Architecture } from '../../arch/graph.ts';
import { asNet } from '../analysis.ts';
import type { MaskSet } from '../masks.ts';
import { type Net, unitCount } from '../net.ts';

/**
 * The definition, spelled out: build every unit and every edge of the network explicitly, search
 * forward from the inputs and backward from the outputs, and call a weight effective iff one of its
 * edges joins a unit reachable from an input to a unit that reaches an output. Quadratic in the
 * network size; only for checking the fast methods on tiny networks.
 */
export function bruteForceEffective(arch: Architecture | Net, masks: MaskSet): Uint8Array[] {
  const net = asNet(arch);
  const offsets: number[] = [];
  let units = 0;
  for (const node of net.nodes) {
    offsets.push(units);
    units += unitCount(node.shape);
  }
  const unit = (id: number, c: number, y: number, x: number) => {
    const [, h, w] = net.nodes[id].shape;
    return offsets[id] + (c * h + y) * w + x;
  };
  const edges: { from: number; to: number; layer: number; weight: number }[] = [];
  const link = (from: number, to: number, layer = -1, weight = -1) => edges.push({ from, to, layer, weight });
  const oneToOne = (input: number, id: number, count: number) => {
    for (let u = 0; u < count; u++) link(offsets[input] + u, offsets[id] + u);
  };

  for (const node of net.nodes) {
    const [c, h, w] = node.shape;
    switch (node.kind) {
      case 'layer': {
        const layer = net.layers.findIndex((l) => l.node === node);
        const [inC, inH, inW] = node.inShape;
        const { kernel, stride, dilation, padTop, padLeft } = node.window;
        const inPerGroup = inC / node.groups;
        const outPerGroup = c / node.groups;
        for (let o = 0; o < c; o++)
          for (let i = 0; i < inPerGroup; i++)
            for (let dy = 0; dy < kernel[0]; dy++)
              for (let dx = 0; dx < kernel[1]; dx++) {
                const weight = ((o * inPerGroup + i) * kernel[0] + dy) * kernel[1] + dx;
                if (!masks[layer][weight]) continue;
                const channel = Math.floor(o / outPerGroup) * inPerGroup + i;
                for (let y = 0; y < h; y++)
                  for (let x = 0; x < w; x++) {
                    const sy = y * stride[0] + dy * dilation[0] - padTop;
                    const sx = x * stride[1] + dx * dilation[1] - padLeft;
                    if (sy < 0 || sx < 0 || sy >= inH || sx >= inW) continue;
                    link(unit(node.input, channel, sy, sx), unit(node.id, o, y, x), layer, weight);
                  }
              }
        break;
      }
      case 'pool': {
        const [, inH, inW] = node.inShape;
        const { kernel, stride, dilation, padTop, padLeft } = node.window;
        for (let ch = 0; ch < c; ch++)
          for (let y = 0; y < h; y++)
            for (let x = 0; x < w; x++)
              for (let sy = 0; sy < inH; sy++)
                for (let sx = 0; sx < inW; sx++) {
                  const dy = (sy + padTop - y * stride[0]) / dilation[0];
                  const dx = (sx + padLeft - x * stride[1]) / dilation[1];
                  const inside =
                    Number.isInteger(dy) &&
                    Number.isInteger(dx) &&
                    dy >= 0 &&
                    dx >= 0 &&
                    dy < kernel[0] &&
                    dx < kernel[1];
                  if (inside) link(unit(node.input, ch, sy, sx), unit(node.id, ch, y, x));
                }
        break;
      }
      case 'links':
        for (let u = 0; u + 1 < node.start.length; u++)
          for (let k = node.start[u]; k < node.start[u + 1]; k++)
            link(offsets[node.inputs[node.from ? node.from[k] : 0]] + node.unit[k], offsets[node.id] + u);
        break;
      case 'concat': {
        let offset = 0;
        for (const input of node.inputs) {
          const count = unitCount(net.nodes[input].shape);
          for (let u = 0; u < count; u++) link(offsets[input] + u, offsets[node.id] + offset + u);
          offset += count;
        }
        break;
      }
      case 'sum':
        for (const input of node.inputs) oneToOne(input, node.id, c * h * w);
        break;
      case 'identity':
        oneToOne(node.input, node.id, c * h * w);
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
  const range = (id: number) =>
    Array.from({ length: unitCount(net.nodes[id].shape) }, (_, u) => offsets[id] + u);
  const fromInput = search(
    net.nodes.filter((node) => node.kind === 'input').flatMap((node) => range(node.id)),
    true,
  );
  const toOutput = search(net.outputs.flatMap(range), false);

  const result = net.layers.map((layer) => new Uint8Array(layer.params));
  for (const e of edges)
    if (e.layer >= 0 && fromInput[e.from] && toOutput[e.to]) result[e.layer][e.weight] = 1;
  return result;
}
