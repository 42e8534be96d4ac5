// Optimizer state, exactly. tfjs's AdamOptimizer keeps β1ᵗ and β2ᵗ as float32 running products
// (accBeta1/2, multiplied by β every step), but getWeights() does not save them and setWeights()
// recomputes them as pow(β, iterations + 1), which differs from the running product in the last
// bits from step 2 on (measured: 4,817 of 5,000 steps). So their bits are saved in resume.json and
// put back after setWeights. The fused Adam kernel (engine/fused/adam.ts) keeps no state of its own:
// it reads and advances these same fields.
import { tf } from '../engine/backend/tf.ts';
import type { NamedOptimizer, OptimizerGroupState } from '../models/checkpoint-optimizer.ts';
import { float32Hex, hexFloat32, type OptimizerExtras } from './state.ts';

interface AdamBetaPowers {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
}

function betaPowers(optimizer: tf.Optimizer): AdamBetaPowers | null {
  // Not instanceof: tfjs's Optimizer[Symbol.hasInstance] says yes for every optimizer.
  return optimizer.getClassName() === 'Adam' ? (optimizer as unknown as AdamBetaPowers) : null;
}

/** What each group's optimizer files miss (Adam's β powers), for resume.json. */
export function optimizerExtras(optimizers: NamedOptimizer[]): OptimizerExtras[] {
  return optimizers.map(({ group, optimizer }) => {
    const adam = betaPowers(optimizer);
    if (!adam) return { group, className: optimizer.getClassName() };
    return {
      group,
      className: 'Adam',
      accBeta1: float32Hex(adam.accBeta1.dataSync()[0]!),
      accBeta2: float32Hex(adam.accBeta2.dataSync()[0]!),
    };
  });
}

/**
 * Puts saved state into the current groups' (fresh) optimizers: setWeights with the saved moments
 * and iteration count, then Adam's β powers from their saved bits. The decoded tensors are freed.
 */
export async function restoreOptimizers(
  optimizers: NamedOptimizer[],
  saved: OptimizerGroupState[],
  extras: OptimizerExtras[],
): Promise<void> {
  try {
    for (const s of saved) {
      const target = optimizers.find((o) => o.group === s.group);
      if (!target || target.optimizer.getClassName() !== s.className) {
        throw new Error(
          `resume: saved optimizer state for group '${s.group}' (${s.className}) has no matching optimizer`,
        );
      }
      await target.optimizer.setWeights(s.weights);
      const adam = betaPowers(target.optimizer);
      const bits = extras.find((e) => e.group === s.group);
      if (adam && bits?.accBeta1 && bits.accBeta2) {
        tf.tidy(() => {
          adam.accBeta1.assign(tf.scalar(hexFloat32(bits.accBeta1!)));
          adam.accBeta2.assign(tf.scalar(hexFloat32(bits.accBeta2!)));
        });
      }
    }
  } finally {
    tf.dispose(saved.flatMap((s) => s.weights.map((w) => w.tensor)));
  }
}
