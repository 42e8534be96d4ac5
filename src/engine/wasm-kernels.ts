// Kernels the WASM backend (tfjs-backend-wasm 4.22) lacks or runs slowly, registered by the project.
// Both keep results within float tolerance of the reference kernels (tests hold).
import { tf } from './tf.ts';

type KernelConfig = tf.KernelConfig;
type TensorInfo = tf.TensorInfo;
type KernelFunc = NonNullable<KernelConfig['kernelFunc']>;
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  disposeData(dataId: object): boolean;
}

let installed = false;

/**
 * Install the project's WASM kernels. Must run before `tf.setBackend('wasm')`, because the engine
 * calls each kernel's setupFunc when the backend initializes.
 */
export function installWasmKernels(): void {
  if (installed) return;
  installed = true;
  const matMul = wrapTransposedMatMul('BatchMatMul');
  wrapTransposedMatMul('_FusedMatMul');
  registerConv2DBackpropFilter(matMul);
}

/**
 * WASM's BatchMatMul only reaches XNNPACK when neither operand is transposed; with transposeA or
 * transposeB it falls back to a naive loop (measured ~15x slower). Every backward pass of a dense
 * layer asks for a transposed product, so an explicit Transpose then the fast path wins by far.
 */
function wrapTransposedMatMul(kernelName: string): KernelFunc {
  const original = tf.getKernel(kernelName, 'wasm');
  if (!original) throw new Error(`wasm kernel ${kernelName} not registered`);
  const transpose = tf.getKernel('Transpose', 'wasm')!.kernelFunc;
  const kernelFunc: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
    if (!transposeA && !transposeB) return original.kernelFunc(args);
    const temps: TensorInfo[] = [];
    const flip = (t: TensorInfo): TensorInfo => {
      const rank = t.shape.length;
      const perm = [...Array(rank - 2).keys(), rank - 1, rank - 2];
      const out = transpose({ inputs: { x: t }, backend, attrs: { perm } }) as TensorInfo;
      temps.push(out);
      return out;
    };
    const a = transposeA ? flip(inputs.a as TensorInfo) : inputs.a;
    const b = transposeB ? flip(inputs.b as TensorInfo) : inputs.b;
    const result = original.kernelFunc({
      inputs: { ...inputs, a, b },
      backend,
      attrs: { ...attrs, transposeA: false, transposeB: false },
    });
    for (const t of temps) (backend as unknown as WasmBackendLike).disposeData(t.dataId);
    return result;
  };
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({ ...original, kernelFunc });
  return kernelFunc;
}

/**
 * The filter gradient of a 2-D convolution (missing from tfjs-backend-wasm 4.22, so CNNs cannot train
 * on it stock). Computed as im2col(x)ᵀ · dy: the patches are gathered directly in transposed layout
 * [kh·kw·cin, n·oh·ow] so that the product takes WASM's fast non-transposed matmul path.
 */
function registerConv2DBackpropFilter(matMul: KernelFunc): void {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
      strides: [number, number] | number;
      pad: 'valid' | 'same' | number;
      dataFormat: 'NHWC' | 'NCHW';
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
      filterShape: [number, number, number, number];
    };
    if (dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter on wasm supports NHWC only');
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode,
    );
    const wasm = backend as unknown as WasmBackendLike;
    const rows = info.filterHeight * info.filterWidth * info.inChannels;
    const cols = info.batchSize * info.outHeight * info.outWidth;
    const patches = wasm.makeOutput([rows, cols], 'float32');
    fillPatchesTransposed(wasm.typedArrayFromHeap(x), wasm.typedArrayFromHeap(patches), info);
    const dy2d: TensorInfo = { dataId: dy.dataId, shape: [cols, info.outChannels], dtype: dy.dtype };
    const out = matMul({
      inputs: { a: patches, b: dy2d }, backend,
      attrs: { transposeA: false, transposeB: false },
    }) as TensorInfo;
    wasm.disposeData(patches.dataId);
    return { dataId: out.dataId, shape: filterShape, dtype: 'float32' };
  };
  tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc });
}

/** patches[(fy·kw + fx)·cin + c, (b·oh + oy)·ow + ox] = x[b, oy·sh + fy − top, ox·sw + fx − left, c]. */
export function fillPatchesTransposed(
  x: Float32Array, patches: Float32Array, info: tf.backend_util.Conv2DInfo,
): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = info;
  const cols = batchSize * outHeight * outWidth;
  for (let fy = 0; fy < filterHeight; fy++) {
    for (let fx = 0; fx < filterWidth; fx++) {
      for (let c = 0; c < inChannels; c++) {
        const rowBase = ((fy * filterWidth + fx) * inChannels + c) * cols;
        let col = 0;
        for (let b = 0; b < batchSize; b++) {
          const xBatch = b * inHeight * inWidth * inChannels;
          for (let oy = 0; oy < outHeight; oy++) {
            const iy = oy * strideHeight + fy - padInfo.top;
            const rowOk = iy >= 0 && iy < inHeight;
            for (let ox = 0; ox < outWidth; ox++, col++) {
              const ix = ox * strideWidth + fx - padInfo.left;
              patches[rowBase + col] = rowOk && ix >= 0 && ix < inWidth
                ? x[xBatch + (iy * inWidth + ix) * inChannels + c]! : 0;
            }
          }
        }
      }
    }
  }
}
