// The one table of what the TS callers and kernels.c must agree on: op codes (word 0 of a call's
// params block) and the control words at the block's end. build.sh generates kernels-ops.h from it
// (gen-ops-header.ts); test/engine/op-codes.test.ts fails when the C side and this table disagree.

/** Word 0 of a params block: which kernel `run` dispatches to (kernels.c chunk_count and run_chunk). */
export const OP = {
  GEMM: 1,
  IM2COL: 2,
  COL2IM: 3,
  MAX_POOL_GRAD: 4,
  COLUMN_SUM: 5,
  ADAM: 6,
  GATHER_ROWS: 7,
  SOFTMAX_XENT: 8,
  RELU_MASK: 9,
  PENALTY: 10,
  SPARSIFY: 11,
  SPMM: 12,
  MAX_POOL: 13,
  BIAS_ACT: 14,
  VEC_MAT: 15,
  /** The tiled max-pool gradient from the window positions MAX_POOL recorded (the fused convnet step). */
  MAX_POOL_GRAD_ARG: 16,
  /** Batch normalisation with given moments (tfjs's FusedBatchNorm, the same float operations). */
  BATCH_NORM: 17,
  /** Its gradient for per-channel moments (tfjs-core's FusedBatchNorm gradient, the same float operations). */
  BATCH_NORM_GRAD: 18,
  /** dy · (x · 2): tfjs's square gradient in one pass (BatchNorm's batch variance). */
  SQUARE_GRAD: 19,
  // A BatchNormalization layer in training as two kernels (kernels.c batch_moments, batch_norm_train_grad).
  BATCH_MOMENTS: 34,
  BATCH_NORM_TRAIN_GRAD: 35,
  // Direct small-channel convolutions (kernels.c, "Direct convolutions").
  DCONV: 20,
  DCONV_FILTER: 21,
  DCONV_PACK: 22,
  DCONV_SUM: 23,
  // Winograd F(2x2, 3x3) convolutions (kernels.c, "Winograd").
  WINO_FILTER: 24,
  WINO: 25,
  WINO_GRAD: 26,
  WINO_GRAD_SUM: 27,
  // Winograd F(4x4, 3x3): the same passes on 6x6 tiles (kernels.c, "F(4x4, 3x3)").
  WINO4_FILTER: 28,
  WINO4: 29,
  WINO4_GRAD: 30,
  WINO4_GRAD_SUM: 31,
  // The input gradient as the adjoint of the forward pass (kernels.c wino_dx_chunk_m): F(2x2), F(4x4).
  WINO_DX: 32,
  WINO4_DX: 33,
  /** Byte features through a per-feature affine map into float32 (data/normalize.ts's, the same bits). */
  BYTES_AFFINE: 36,
} as const;
export type OpName = keyof typeof OP;

/** The params block is 68 i32 words: a call's parameters first, then the control words below. */
export const PARAM_WORDS = 68;

/** Control words at the end of the params block: written by runtime.ts, claimed atomically in kernels.c. */
export const CTRL = {
  /** While a parallel call runs, (call & CALL.MASK) << CALL.SHIFT | the next chunk to claim; otherwise
   *  CLOSED (negative), so no worker claims anything (kernels.c `run`). */
  COUNTER: 63,
  /** Chunks finished; the calling thread waits on it. */
  DONE: 64,
  /** How many chunks the call has (kernels.c writes it, on the calling thread). */
  CHUNKS: 65,
  /** Threads taking part (sizes gemm's work split). */
  THREADS: 66,
  /** The call's number, whole (its packing caches are tagged with it). */
  CALL: 67,
} as const;

/** The counter when no parallel call is open. */
export const CLOSED = -1;

/** The counter's call tag: a compare-exchange against a value seen before the counter was closed and
 *  opened again for another call fails, since that call's tag differs. */
export const CALL = { SHIFT: 20, MASK: 0x7ff } as const;
