// Plain-array linear algebra for per-task gradients (one Float32Array per task, all the same length),
// accumulated in float64: the gradient methods and their diagnostics are built from these.

export type GradientMatrix = readonly Float32Array[];

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export function norm(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

/** G[i][j] = g_i · g_j. */
export function gramMatrix(grads: GradientMatrix): number[][] {
  const T = grads.length;
  const G = Array.from({ length: T }, () => new Array<number>(T).fill(0));
  for (let i = 0; i < T; i++) {
    for (let j = i; j < T; j++) G[i]![j] = G[j]![i] = dot(grads[i]!, grads[j]!);
  }
  return G;
}

/** Σ_t w_t g_t. */
export function combine(weights: readonly number[], grads: GradientMatrix): Float32Array {
  const out = new Float32Array(grads[0]?.length ?? 0);
  grads.forEach((g, t) => {
    const w = weights[t]!;
    if (w !== 0) for (let i = 0; i < out.length; i++) out[i]! += w * g[i]!;
  });
  return out;
}

/** Conflict diagnostics: each task's gradient norm and the cosine of every pair (i < j). */
export interface GradientDiagnostics {
  norms: number[];
  /** cosine[k] for the k-th pair in (0,1), (0,2), …, (1,2), … order. */
  cosine: number[];
}

export function gradientDiagnostics(grads: GradientMatrix, gram: number[][] = gramMatrix(grads)): GradientDiagnostics {
  const norms = gram.map((row, i) => Math.sqrt(row[i]!));
  const cosine: number[] = [];
  for (let i = 0; i < grads.length; i++) {
    for (let j = i + 1; j < grads.length; j++) cosine.push(gram[i]![j]! / Math.max(norms[i]! * norms[j]!, 1e-20));
  }
  return { norms, cosine };
}

/** Pairs (i, j), i < j, in the order gradientDiagnostics lists their cosines. */
export function taskPairs(T: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) out.push([i, j]);
  return out;
}

export function softmax(xs: readonly number[]): number[] {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
