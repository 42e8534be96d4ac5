// How many times each of mtl's registered kernels ran its own code rather than handing the call to the
// stock tfjs kernel: tests read it to assert that the path they name ran. One integer add per call.

/** Kernel name (tfjs's, e.g. `Conv2D`, or mtl's own, e.g. `MtlAdam`) → calls mtl's code handled. */
export const kernelCalls = new Map<string, number>();

export function countKernelCall(kernelName: string, times = 1): void {
  kernelCalls.set(kernelName, (kernelCalls.get(kernelName) ?? 0) + times);
}
