// `freeze-conv` (Keras's mnist_transfer_cnn): the conv blocks frozen, the dense layers and head train.
import { isConvBlock, PlanError, type Strategy } from './types.ts';

export const freezeConv: Strategy = {
  help: 'frozen conv blocks, dense layers and head train (Keras mnist_transfer_cnn)',
  usesSource: true,
  needsConv: true,
  plan: (blocks, backbone) => {
    if (!backbone.some(isConvBlock))
      throw new PlanError('freeze-conv needs a model with conv layers; this one has none (use --model cnn)');
    return [
      {
        name: 'frozen-conv',
        groups: [{ name: 'trainable', blocks: blocks.filter((b) => !isConvBlock(b)), lrScale: 1 }],
      },
    ];
  },
};
