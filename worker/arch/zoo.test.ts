import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../../common/errors.ts';
import { architecture } from './zoo.ts';

const layerShapes = (name: string, imageSize?: number) =>
  architecture(name, undefined, { imageSize }).layers.map((layer) => [layer.name, layer.shape]);

test('imageSize builds the same layers on smaller images', () => {
  const small = architecture('resnet18', undefined, { imageSize: 16 });
  assert.deepEqual(small.input, [16, 16, 3]);
  assert.equal(small.classes, 200);
  // Not TinyImageNet's 64×64 images any more, and labelled so.
  assert.equal(small.dataset, 'tinyimagenet@16x16');
  assert.equal(architecture('resnet18', undefined, { imageSize: 64 }), architecture('resnet18'));
  assert.deepEqual(layerShapes('resnet18', 16), layerShapes('resnet18'));
  // Stage 4 of ResNet-18 sees 2×2 maps at 16×16 (8×8 at the default 64×64).
  const last = small.layers.find((layer) => layer.name === 'layer4.1.conv2')!.node;
  assert.deepEqual(last.kind === 'conv' && last.inShape, [512, 2, 2]);
  assert.deepEqual(architecture('resnet18').input, [64, 64, 3]);
});

test('inputs too small for VGG are refused as bad input, naming the least size', () => {
  // Five 2×2 max pools need at least 32×32.
  const needs = (error: unknown) =>
    error instanceof InputError && /^VGG needs inputs of at least 32×32, got 16×16 /.test(error.message);
  assert.throws(() => architecture('vgg16', undefined, { imageSize: 16 }), needs);
  assert.throws(() => architecture('vgg19', 'mnist'), /VGG needs inputs of at least 32×32, got 28×28/);
  assert.equal(architecture('vgg16', 'cifar10').input[0], 32);
});
