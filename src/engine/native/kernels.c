// mtl's compute kernels for the embedded (wasm) backend: a register-blocked SIMD sgemm, im2col/col2im
// for convolutions, direct and Winograd F(2x2, 3x3) and F(4x4, 3x3) convolutions, max-pool gradients, column sums, Adam, and the rest of a fused dense training step
// (sparse products, softmax cross-entropy...). Built by build.sh into kernels.wasm (no libc, no data
// segments), twice: kernels.wasm on a shared memory for worker threads, kernels-st.wasm for one thread
// directly on tfjs-backend-wasm's heap (no copies). runtime.ts runs either.
//
// A call is cut into chunks (row blocks, images) that the calling thread and the workers claim one at
// a time from a shared counter, so a worker that wakes late (a busy machine) takes fewer chunks
// instead of holding everyone up. Chunks never split a reduction, so each output element is summed in
// the same order whoever computes it: results are bit-identical on 1 or N threads.
#include <stdint.h>
#include <wasm_simd128.h>

// OP_*, CTRL_*, CALL_*: generated from op-codes.ts, the table the TS callers import.
#include "kernels-ops.h"

typedef float f32;
typedef int32_t i32;

// Micro-tile MR x NR = 4 x 8: 8 accumulators + 2 B vectors + 1 broadcast + 1 product temporary fit the
// 15 SIMD registers V8 allocates on x86-64 (xmm15 is its scratch). Without FMA every multiply needs the
// temporary, so 6 x 8 spills; measured 1024^3 on Zen3: 4x8 29 GFLOP/s, 6x8 24, 5x8 18. Its inner loop
// is written in WebAssembly assembly (micro-kernel.mjs writes it), which reads operands at constant load offsets.
// The FMA build (kernels*-fma.wasm, for engines with WebAssembly relaxed SIMD) multiplies and adds in
// one instruction: no temporary, so a 6 x 8 tile (12 accumulators) fits, and there is one rounding
// per term instead of two (results differ from the plain build in the last bits).
#ifdef MTL_FMA
#define MR 6
#else
#define MR 4
#endif
#define NR 8
// Cache blocking (GotoBLAS): a KC x NR panel of B stays in L1, an MC x KC block of A in L2. K is cut
// into equal blocks of at most KC (288 = one block, not 256 + a 32 tail that costs a C pass of its own).
#define KC 320
#define MC 96
#define NC 2048
// Floats of workspace one thread needs: a tag header, then its packed B and A blocks (runtime.ts reads
// this via gemm_workspace).
#define WORK_HEADER 16
#define WORK_FLOATS (WORK_HEADER + KC * NC + MC * KC)

enum { ACT_LINEAR = 0, ACT_RELU = 1 };

static inline i32 min_i(i32 a, i32 b) { return a < b ? a : b; }

__attribute__((export_name("gemm_workspace"))) i32 gemm_workspace(void) { return WORK_FLOATS; }

// ---------------------------------------------------------------------------------------------------
// sgemm: C[M,N] = op(A)[M,K] · op(B)[K,N] (+ C when accumulate) (+ bias[N]), then the activation.

static void pack_a(const f32 *a, i32 lda, i32 trans, i32 i0, i32 mc, i32 k0, i32 kc, f32 *dst) {
  for (i32 p = 0; p < mc; p += MR) {
    i32 rows = min_i(MR, mc - p);
    f32 *d = dst + p * kc;
    if (trans) {  // A(i,k) = a[k*lda + i]: MR contiguous values per k
      for (i32 k = 0; k < kc; k++) {
        const f32 *s = a + (k0 + k) * lda + i0 + p;
        i32 r = 0;
        for (; r < rows; r++) d[k * MR + r] = s[r];
        for (; r < MR; r++) d[k * MR + r] = 0.f;
      }
    } else {  // A(i,k) = a[i*lda + k]: each row is contiguous in k
      for (i32 r = 0; r < MR; r++) {
        const f32 *s = a + (i0 + p + r) * lda + k0;
        if (r < rows) for (i32 k = 0; k < kc; k++) d[k * MR + r] = s[k];
        else for (i32 k = 0; k < kc; k++) d[k * MR + r] = 0.f;
      }
    }
  }
}

static void pack_b(const f32 *b, i32 ldb, i32 trans, i32 k0, i32 kc, i32 j0, i32 nc, f32 *dst) {
  for (i32 p = 0; p < nc; p += NR) {
    i32 cols = min_i(NR, nc - p);
    f32 *d = dst + p * kc;
    if (!trans && cols == NR) {  // B(k,j) = b[k*ldb + j]: NR contiguous values per k
      for (i32 k = 0; k < kc; k++) {
        const f32 *s = b + (k0 + k) * ldb + j0 + p;
        wasm_v128_store(d + k * NR, wasm_v128_load(s));
        wasm_v128_store(d + k * NR + 4, wasm_v128_load(s + 4));
      }
    } else if (!trans) {
      for (i32 k = 0; k < kc; k++) {
        const f32 *s = b + (k0 + k) * ldb + j0 + p;
        i32 c = 0;
        for (; c < cols; c++) d[k * NR + c] = s[c];
        for (; c < NR; c++) d[k * NR + c] = 0.f;
      }
    } else {  // B(k,j) = b[j*ldb + k]: each column is contiguous in k
      for (i32 c = 0; c < NR; c++) {
        const f32 *s = b + (j0 + p + c) * ldb + k0;
        if (c < cols) for (i32 k = 0; k < kc; k++) d[k * NR + c] = s[k];
        else for (i32 k = 0; k < kc; k++) d[k * NR + c] = 0.f;
      }
    }
  }
}

// madd(a, b, c) = a·b + c: fused (one rounding) in the FMA build. clang 14 knows relaxed SIMD only by
// its prototype encoding (f32x4.fma, 0xfd 0xaf 0x01); build.sh rewrites every such instruction to the
// standard f32x4.relaxed_madd (0xfd 0x85 0x02), whose operands are (a, b, c) -> a·b + c, and checks
// that it rewrote exactly as many as the disassembler lists.
#ifdef MTL_FMA
#define MADD(a, b, c) __builtin_wasm_fma_f32x4((a), (b), (c))
#else
#define MADD(a, b, c) wasm_f32x4_add(wasm_f32x4_mul((a), (b)), (c))
#endif

/** The inner loop (micro-kernel.mjs): acc[2r], acc[2r+1] = Σ_k a[k·MR + r] · b[k·8 .. k·8+7]. */
#ifdef MTL_FMA
void mtl_mk6x8_fma(i32 kc, const f32 *a, const f32 *b, v128_t *acc);
#define MICRO_LOOP mtl_mk6x8_fma
#else
void mtl_mk4x8(i32 kc, const f32 *a, const f32 *b, v128_t *acc);
#define MICRO_LOOP mtl_mk4x8
#endif

/** One MR x NR tile over kc: a and b are packed panels; writes (or adds into) rows x cols of c. */
__attribute__((noinline)) static void micro_kernel(i32 kc, const f32 *a, const f32 *b, f32 *c, i32 ldc, i32 rows, i32 cols, i32 acc) {
  v128_t s[2 * MR];
  MICRO_LOOP(kc, a, b, s);
  for (i32 i = 0; i < rows; i++) {
    f32 *cr = c + i * ldc;
    v128_t lo = s[2 * i], hi = s[2 * i + 1];
    if (cols == NR) {
      if (acc) {
        lo = wasm_f32x4_add(lo, wasm_v128_load(cr));
        hi = wasm_f32x4_add(hi, wasm_v128_load(cr + 4));
      }
      wasm_v128_store(cr, lo);
      wasm_v128_store(cr + 4, hi);
    } else {
      f32 t[NR];
      wasm_v128_store(t, lo);
      wasm_v128_store(t + 4, hi);
      for (i32 j = 0; j < cols; j++) cr[j] = acc ? cr[j] + t[j] : t[j];
    }
  }
}

typedef struct {
  i32 op, trans_a, trans_b, m, n, k;
  const f32 *a;
  i32 lda;
  const f32 *b;
  i32 ldb;
  f32 *c;
  i32 ldc, accumulate;
  const f32 *bias;
  i32 act;
  f32 *work;  // threads x WORK_FLOATS
  i32 skinny;  // N ≤ SKINNY_N: gemm_skinny (ops.ts decides, and counts it)
} GemmParams;

/** Equal K blocks of at most KC. */
static inline i32 k_step(i32 k) {
  i32 blocks = (k + KC - 1) / KC;
  return blocks > 0 ? (k + blocks - 1) / blocks : 1;
}

/** Chunks of rows (when M >= N) or of columns, in whole micro-tiles, capped at a block: about four per
 *  thread for rows (every thread packs B once and keeps it), two for columns (each repacks A). */
static i32 gemm_chunk_size(const GemmParams *p, i32 threads) {
  i32 split_m = p->m >= p->n, len = split_m ? p->m : p->n, unit = split_m ? MR : NR, cap = split_m ? MC : NC;
  if (threads == 1) return len > 0 ? len : 1;  // one chunk: every block packed exactly once
  i32 per = (split_m ? 4 : 2) * threads;
  i32 want = (len + per - 1) / per;
  want = (want + unit - 1) / unit * unit;
  return want < unit ? unit : want > cap ? cap : want;
}

static i32 gemm_chunks(const GemmParams *p, i32 threads) {
  i32 len = p->m >= p->n ? p->m : p->n, size = gemm_chunk_size(p, threads);
  return (len + size - 1) / size;
}

/** True (and re-tags) unless this thread's workspace already holds this block for this call. */
static inline i32 stale(i32 *tag, i32 call, i32 i0, i32 k0) {
  if (tag[0] == call && tag[1] == i0 && tag[2] == k0) return 0;
  tag[0] = call;
  tag[1] = i0;
  tag[2] = k0;
  return 1;
}

/** Packed B kept whole (all of K) only while it stays in L2; larger B is packed one K block at a time. */
#define B_WHOLE_FLOATS (64 * 1024)

/** C[m0:m1, n0:n1]. When B is small it is packed for all of K at once, so the row chunks a thread
 *  takes in one call reuse it; A is packed per MC x KC block. */
static void gemm_region(const GemmParams *p, i32 m0, i32 m1, i32 n0, i32 n1, f32 *work, i32 call) {
  i32 *tag_b = (i32 *)work, *tag_a = (i32 *)work + 4;
  f32 *bp = work + WORK_HEADER, *ap = bp + KC * NC;
  i32 kstep = k_step(p->k), full_n = (n1 - n0) == p->n, full_m = (m1 - m0) == p->m;
  i32 whole = p->k * ((min_i(NC, n1 - n0) + NR - 1) / NR * NR) <= B_WHOLE_FLOATS;
  for (i32 jc = n0; jc < n1; jc += NC) {
    i32 nc = min_i(NC, n1 - jc), ncp = (nc + NR - 1) / NR * NR;  // packed width: whole panels
    if (whole && stale(tag_b, call, full_n ? jc : -1 - jc, -1)) {
      for (i32 pc = 0; pc < p->k; pc += kstep) pack_b(p->b, p->ldb, p->trans_b, pc, min_i(kstep, p->k - pc), jc, nc, bp + pc * ncp);
    }
    for (i32 pc = 0; pc < p->k; pc += kstep) {
      i32 kc = min_i(kstep, p->k - pc);
      i32 acc = pc > 0 || p->accumulate;
      const f32 *bblock = whole ? bp + pc * ncp : bp;
      if (!whole && stale(tag_b, call, full_n ? jc : -1 - jc, pc)) pack_b(p->b, p->ldb, p->trans_b, pc, kc, jc, nc, bp);
      for (i32 ic = m0; ic < m1; ic += MC) {
        i32 mc = min_i(MC, m1 - ic);
        if (stale(tag_a, call, full_m ? ic : -1 - ic, pc)) pack_a(p->a, p->lda, p->trans_a, ic, mc, pc, kc, ap);
        for (i32 jr = 0; jr < nc; jr += NR) {
          for (i32 ir = 0; ir < mc; ir += MR) {
            micro_kernel(kc, ap + ir * kc, bblock + jr * kc, p->c + (ic + ir) * p->ldc + jc + jr, p->ldc,
                         min_i(MR, mc - ir), min_i(NR, nc - jr), acc);
          }
        }
      }
    }
  }
}

static void gemm_epilogue(const GemmParams *p, i32 m0, i32 m1, i32 n0, i32 n1) {
  if (p->k == 0 && !p->accumulate) {
    for (i32 i = m0; i < m1; i++)
      for (i32 j = n0; j < n1; j++) p->c[i * p->ldc + j] = 0.f;
  }
  if (!p->bias && p->act == ACT_LINEAR) return;
  for (i32 i = m0; i < m1; i++) {
    f32 *row = p->c + i * p->ldc;
    for (i32 j = n0; j < n1; j++) {
      f32 v = row[j] + (p->bias ? p->bias[j] : 0.f);
      row[j] = p->act == ACT_RELU && v < 0.f ? 0.f : v;
    }
  }
}

// Skinny products (N ≤ SKINNY_N: a classifier's logits, their weight gradient): the micro-kernel pads
// N to 8-wide panels and packs A for a product whose B is one or three vectors wide. Here B is padded to
// whole vectors once per K block and A is read where it lies, with the micro-kernel's arithmetic: per
// output an accumulator from 0, one madd per k ascending within each K block, each block's sum then
// stored or added to C in order, so the same bits (test/engine/native.test.ts compares with gemm).
#define SKINNY_N 12

/** R rows from i of C[:, n0:n1] over one K block [pc, pc + kc), B's block padded at bp ([kc, 4·NV]). */
static inline __attribute__((always_inline)) void skinny_rows(const GemmParams *p, const i32 TA, const i32 NV, const i32 R,
                                                              i32 i, i32 n0, i32 n1, i32 pc, i32 kc, const f32 *bp,
                                                              i32 acc) {
  v128_t s[3][3];
  for (i32 r = 0; r < R; r++)
    for (i32 v = 0; v < NV; v++) s[r][v] = wasm_f32x4_splat(0.f);
  const f32 *a = TA ? p->a + pc * p->lda + i : p->a + i * p->lda + pc;
  for (i32 kk = 0; kk < kc; kk++) {
    v128_t b[3];
    for (i32 v = 0; v < NV; v++) b[v] = wasm_v128_load(bp + (kk * NV + v) * 4);
    for (i32 r = 0; r < R; r++) {
      v128_t x = wasm_v128_load32_splat(TA ? a + kk * p->lda + r : a + r * p->lda + kk);
      for (i32 v = 0; v < NV; v++) s[r][v] = MADD(x, b[v], s[r][v]);
    }
  }
  for (i32 r = 0; r < R; r++) {
    f32 t[12], *cr = p->c + (i + r) * p->ldc;
    for (i32 v = 0; v < NV; v++) wasm_v128_store(t + 4 * v, s[r][v]);
    for (i32 j = n0; j < n1; j++) cr[j] = acc ? cr[j] + t[j] : t[j];
  }
}

static inline __attribute__((always_inline)) void skinny_block(const GemmParams *p, const i32 TA, const i32 NV, i32 m0,
                                                               i32 m1, i32 n0, i32 n1, i32 pc, i32 kc, const f32 *bp,
                                                               i32 acc) {
  enum { R = 3 };  // NV = 3: 9 accumulators, 3 B vectors and the broadcast (V8 has 15 SIMD registers)
  i32 i = m0;
  for (; i + R <= m1; i += R) skinny_rows(p, TA, NV, R, i, n0, n1, pc, kc, bp, acc);
  for (; i < m1; i++) skinny_rows(p, TA, NV, 1, i, n0, n1, pc, kc, bp, acc);
}

/** C[m0:m1, n0:n1] (a chunk splits columns only when M < N ≤ SKINNY_N: it then computes every column of
 *  its few rows and stores its own). */
__attribute__((noinline)) static void gemm_skinny(const GemmParams *p, i32 m0, i32 m1, i32 n0, i32 n1, f32 *work) {
  i32 kstep = k_step(p->k), nv = (p->n + 3) / 4, w = 4 * nv;
  f32 *bp = work + WORK_HEADER;
  for (i32 pc = 0; pc < p->k; pc += kstep) {
    i32 kc = min_i(kstep, p->k - pc), acc = pc > 0 || p->accumulate;
    for (i32 kk = 0; kk < kc; kk++)
      for (i32 j = 0; j < w; j++)
        bp[kk * w + j] = j >= p->n ? 0.f : p->trans_b ? p->b[j * p->ldb + pc + kk] : p->b[(pc + kk) * p->ldb + j];
#define SKINNY(TA, NV) skinny_block(p, TA, NV, m0, m1, n0, n1, pc, kc, bp, acc)
    if (p->trans_a) {
      if (nv == 1) SKINNY(1, 1); else if (nv == 2) SKINNY(1, 2); else SKINNY(1, 3);
    } else {
      if (nv == 1) SKINNY(0, 1); else if (nv == 2) SKINNY(0, 2); else SKINNY(0, 3);
    }
#undef SKINNY
  }
}

__attribute__((noinline)) static void gemm_chunk(const GemmParams *p, i32 idx, i32 tid, i32 threads, i32 call) {
  i32 size = gemm_chunk_size(p, threads);
  i32 m0 = 0, m1 = p->m, n0 = 0, n1 = p->n;
  if (p->m >= p->n) {
    m0 = idx * size;
    m1 = min_i(p->m, m0 + size);
  } else {
    n0 = idx * size;
    n1 = min_i(p->n, n0 + size);
  }
  if (p->k > 0 && p->skinny && p->n <= SKINNY_N) gemm_skinny(p, m0, m1, n0, n1, p->work + tid * WORK_FLOATS);
  else if (p->k > 0) gemm_region(p, m0, m1, n0, n1, p->work + tid * WORK_FLOATS, call);
  gemm_epilogue(p, m0, m1, n0, n1);
}

// ---------------------------------------------------------------------------------------------------
// Convolution helpers (NHWC; filter [fh, fw, cin, cout] is a row-major [fh·fw·cin, cout] matrix).

typedef struct {
  i32 op, batch, in_h, in_w, in_c, out_h, out_w, fh, fw, stride_h, stride_w, pad_top, pad_left;
  i32 dil_h, dil_w;
  f32 *x;        // [batch, in_h, in_w, in_c]
  f32 *patches;  // [batch·out_h·out_w, fh·fw·in_c]
} ConvParams;

/** Patch rows per im2col chunk. */
#define IM2COL_ROWS 512

/** Copy n floats (n small; a multiple of 4 goes by vectors). */
static inline void copy_floats(f32 *dst, const f32 *src, i32 n) {
  if ((n & 3) == 0) {
    for (i32 c = 0; c < n; c += 4) wasm_v128_store(dst + c, wasm_v128_load(src + c));
  } else {
    for (i32 c = 0; c < n; c++) dst[c] = src[c];
  }
}

/** patches[(b·oh + oy)·ow + ox, (fy·fw + fx)·cin + c] = x[b, oy·sh + fy·dh − top, ox·sw + fx·dw − left, c].
 *  Rows are walked in order (no divisions per element): im2col of a 1-channel image is otherwise
 *  slower than the matmul that follows it. */
__attribute__((noinline)) static void im2col(const ConvParams *p, i32 idx) {
  i32 rows = p->batch * p->out_h * p->out_w;
  i32 r0 = idx * IM2COL_ROWS, r1 = min_i(rows, r0 + IM2COL_ROWS);
  i32 cin = p->in_c, kdim = p->fh * p->fw * cin;
  i32 ox = r0 % p->out_w, oy = (r0 / p->out_w) % p->out_h, b = r0 / (p->out_w * p->out_h);
  f32 *dst = p->patches + r0 * kdim;
  for (i32 r = r0; r < r1; r++, dst += kdim) {
    const f32 *img = p->x + b * p->in_h * p->in_w * cin;
    i32 ix0 = ox * p->stride_w - p->pad_left;
    f32 *d = dst;
    for (i32 fy = 0; fy < p->fh; fy++) {
      i32 iy = oy * p->stride_h + fy * p->dil_h - p->pad_top;
      if (iy < 0 || iy >= p->in_h) {
        for (i32 c = 0; c < p->fw * cin; c++) d[c] = 0.f;
        d += p->fw * cin;
        continue;
      }
      const f32 *row = img + iy * p->in_w * cin;
      if (p->dil_w == 1 && ix0 >= 0 && ix0 + p->fw <= p->in_w) {  // whole window inside: one run
        copy_floats(d, row + ix0 * cin, p->fw * cin);
        d += p->fw * cin;
        continue;
      }
      for (i32 fx = 0; fx < p->fw; fx++, d += cin) {
        i32 ix = ix0 + fx * p->dil_w;
        if (ix < 0 || ix >= p->in_w) for (i32 c = 0; c < cin; c++) d[c] = 0.f;
        else copy_floats(d, row + ix * cin, cin);
      }
    }
    if (++ox == p->out_w) {
      ox = 0;
      if (++oy == p->out_h) { oy = 0; b++; }
    }
  }
}

/** The adjoint of im2col: x[b, …] = Σ patches over every patch that read it. One image per chunk. */
__attribute__((noinline)) static void col2im(const ConvParams *p, i32 b) {
  i32 cin = p->in_c, kdim = p->fh * p->fw * cin, img_size = p->in_h * p->in_w * cin;
  {
    f32 *img = p->x + b * img_size;
    for (i32 i = 0; i < img_size; i++) img[i] = 0.f;
    for (i32 oy = 0; oy < p->out_h; oy++) {
      for (i32 ox = 0; ox < p->out_w; ox++) {
        const f32 *src = p->patches + ((b * p->out_h + oy) * p->out_w + ox) * kdim;
        for (i32 fy = 0; fy < p->fh; fy++) {
          i32 iy = oy * p->stride_h + fy * p->dil_h - p->pad_top;
          for (i32 fx = 0; fx < p->fw; fx++, src += cin) {
            i32 ix = ox * p->stride_w + fx * p->dil_w - p->pad_left;
            if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) continue;
            f32 *dst = img + (iy * p->in_w + ix) * cin;
            for (i32 c = 0; c < cin; c++) dst[c] += src[c];
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Direct convolutions for few channels (stride 1, no dilation). With 1 input channel a patch is only
// fh·fw long and im2col + sgemm moves more memory than it multiplies; these read the image in place.
// Output channels are the vector lanes (weights packed with them padded to a multiple of 4, cp), and
// a kernel keeps a block of output positions × channel vectors in registers:
//  - forward (dconv_image, one image per chunk): y[oy, ox, co] = Σ_{fy, fx, ci} in[oy+fy, ox+fx, ci] ·
//    w[fy, fx, ci, co] in padded coordinates, summed in that order, then + bias, then relu;
//  - input gradient: the same kernel on dy padded by fh−1−top, fw−1−left, with the filter flipped and
//    its channel axes swapped (dconv_pack);
//  - filter gradient (dconv_filter_chunk): dw[fy, fx, ci, co] = Σ_{b, oy, ox} x[b, oy+fy, ox+fx, ci] ·
//    dy[b, oy, ox, co], accumulated per kernel row (fx × channel vectors in registers) over one image
//    at a time into the chunk's own partial sum; a chunk is a fixed run of images (never the thread
//    count's business), and dconv_sum adds the chunks' partials in chunk order.
// Kernel rows and columns that would read only padding are skipped; the rest reads a zero-padded
// copy of the image (only when there is padding) in the thread's workspace.

typedef struct {
  i32 op, batch, in_h, in_w, in_c, out_h, out_w, out_c, fh, fw, pad_top, pad_left;
  const f32 *x;     // [batch, in_h, in_w, in_c]
  const f32 *w;     // dconv_pack's layout: [fh, fw, in_c, cp], then cp floats of bias
  i32 bias, act;    // whether to add the packed bias; ACT_LINEAR or ACT_RELU
  f32 *y;           // [batch, out_h, out_w, out_c]
  f32 *work;        // threads x WORK_FLOATS
} DconvParams;

typedef struct {
  i32 op, batch, in_h, in_w, in_c, out_h, out_w, out_c, fh, fw, pad_top, pad_left;
  const f32 *x;     // [batch, in_h, in_w, in_c]
  const f32 *dy;    // [batch, out_h, out_w, out_c]
  f32 *partial;     // chunks x [fh, fw, in_c, cp]
  i32 images;       // per chunk
  f32 *work;
} DconvFilterParams;

typedef struct {
  i32 op, fh, fw, cin, cout, flip;
  const f32 *w;     // [fh, fw, cin, cout]
  const f32 *bias;  // [cout] or null
  f32 *packed;
} DconvPackParams;

typedef struct {
  i32 op, chunks, n, cout, cp;
  const f32 *partial;  // chunks x [n, cp]
  f32 *out;            // [n, cout]
} DconvSumParams;

static inline i32 max_i(i32 a, i32 b) { return a > b ? a : b; }
static inline i32 round4(i32 n) { return (n + 3) & ~3; }

/** w → [fh, fw, cin, cp] (cp = cout rounded up to 4, zeros after cout) and the bias after it; with
 *  flip, the input gradient's filter: [fh, fw, cout, round4(cin)] = w[fh−1−fy, fw−1−fx, ci, co]. */
__attribute__((noinline)) static void dconv_pack(const DconvPackParams *p) {
  i32 fh = p->fh, fw = p->fw, cin = p->cin, cout = p->cout;
  i32 rows = p->flip ? cout : cin, lanes = p->flip ? cin : cout, cp = round4(lanes);
  for (i32 fy = 0; fy < fh; fy++) {
    for (i32 fx = 0; fx < fw; fx++) {
      f32 *d = p->packed + (fy * fw + fx) * rows * cp;
      for (i32 r = 0; r < rows; r++, d += cp) {
        for (i32 l = 0; l < cp; l++) {
          if (l >= lanes) d[l] = 0.f;
          else if (!p->flip) d[l] = p->w[((fy * fw + fx) * cin + r) * cout + l];
          else d[l] = p->w[(((fh - 1 - fy) * fw + (fw - 1 - fx)) * cin + l) * cout + r];
        }
      }
    }
  }
  f32 *b = p->packed + fh * fw * rows * cp;
  for (i32 l = 0; l < cp; l++) b[l] = p->bias && l < lanes ? p->bias[l] : 0.f;
}

/** The image in padded coordinates (hp x wp, the image at top, left, zeros around it): the image itself
 *  when there is no padding, else a copy in buf. *row: floats between rows. */
static const f32 *padded_image(const f32 *img, i32 in_h, i32 in_w, i32 cin, i32 hp, i32 wp, i32 top, i32 left,
                               f32 *buf, i32 *row) {
  if (top == 0 && left == 0 && in_h == hp && in_w == wp) {
    *row = in_w * cin;
    return img;
  }
  *row = wp * cin;
  for (i32 i = 0; i < hp * wp * cin; i++) buf[i] = 0.f;
  for (i32 iy = 0; iy < in_h && iy + top < hp; iy++) {
    i32 n = min_i(in_w, wp - left) * cin;
    const f32 *s = img + iy * in_w * cin;
    f32 *d = buf + ((iy + top) * wp + left) * cin;
    for (i32 i = 0; i < n; i++) d[i] = s[i];
  }
  return buf;
}

/** Store the first `lanes` (1..4) lanes of v. */
static inline void store_lanes(f32 *d, v128_t v, i32 lanes) {
  if (lanes == 4) wasm_v128_store(d, v);
  else {
    if (lanes & 2) wasm_v128_store64_lane(d, v, 0);
    if (lanes == 1) wasm_v128_store32_lane(d, v, 0);
    else if (lanes == 3) wasm_v128_store32_lane(d + 2, v, 2);
  }
}

/** XB output positions x CV channel vectors: acc[x][v] = Σ over `rows` kernel rows and `taps` (fx, ci)
 *  pairs of in[x·cin + tap] · w[tap·cp + 4v]; then + bias, relu, and the first `lanes` channels stored. */
static inline __attribute__((always_inline)) void dconv_block(i32 XB, i32 CV, const f32 *in, i32 in_row, i32 cin,
                                                              i32 taps, i32 rows, const f32 *w, i32 w_row, i32 cp,
                                                              f32 *out, i32 cout, i32 lanes, const f32 *bias, i32 relu) {
  v128_t acc[8][6];
#pragma clang loop unroll(full)
  for (i32 x = 0; x < XB; x++)
#pragma clang loop unroll(full)
    for (i32 v = 0; v < CV; v++) acc[x][v] = wasm_f32x4_splat(0.f);
  for (i32 r = 0; r < rows; r++) {
    const f32 *ip = in + r * in_row, *wp = w + r * w_row;
    for (i32 t = 0; t < taps; t++, ip++, wp += cp) {
      if (XB <= CV) {  // the broadcasts first, then one weight vector at a time: acc + XB + 1 registers
        v128_t b[8];
#pragma clang loop unroll(full)
        for (i32 x = 0; x < XB; x++) b[x] = wasm_v128_load32_splat(ip + x * cin);
#pragma clang loop unroll(full)
        for (i32 v = 0; v < CV; v++) {
          v128_t wv = wasm_v128_load(wp + 4 * v);
#pragma clang loop unroll(full)
          for (i32 x = 0; x < XB; x++) acc[x][v] = MADD(b[x], wv, acc[x][v]);
        }
      } else {  // the weights first, then one broadcast at a time: acc + CV + 1 registers
        v128_t wv[6];
#pragma clang loop unroll(full)
        for (i32 v = 0; v < CV; v++) wv[v] = wasm_v128_load(wp + 4 * v);
#pragma clang loop unroll(full)
        for (i32 x = 0; x < XB; x++) {
          v128_t b = wasm_v128_load32_splat(ip + x * cin);
#pragma clang loop unroll(full)
          for (i32 v = 0; v < CV; v++) acc[x][v] = MADD(b, wv[v], acc[x][v]);
        }
      }
    }
  }
  v128_t zero = wasm_f32x4_splat(0.f);
#pragma clang loop unroll(full)
  for (i32 x = 0; x < XB; x++) {
#pragma clang loop unroll(full)
    for (i32 v = 0; v < CV; v++) {
      v128_t s = acc[x][v];
      if (bias) s = wasm_f32x4_add(s, wasm_v128_load(bias + 4 * v));
      if (relu) s = wasm_v128_bitselect(zero, s, wasm_f32x4_lt(s, zero));
      store_lanes(out + x * cout + 4 * v, s, min_i(4, lanes - 4 * v));
    }
  }
}

#define DCONV_ARGS                                                                                          \
  const f32 *in, i32 in_row, i32 cin, i32 taps, i32 rows, const f32 *w, i32 w_row, i32 cp, f32 *out, i32 cout, \
      i32 lanes, const f32 *bias, i32 relu
#define DCONV_PASS in, in_row, cin, taps, rows, w, w_row, cp, out, cout, lanes, bias, relu
#define DCONV_FN(XB, CV) \
  __attribute__((noinline)) static void dconv_##XB##x##CV(DCONV_ARGS) { dconv_block(XB, CV, DCONV_PASS); }
DCONV_FN(1, 1) DCONV_FN(2, 1) DCONV_FN(3, 1) DCONV_FN(4, 1) DCONV_FN(5, 1) DCONV_FN(6, 1) DCONV_FN(7, 1)
DCONV_FN(1, 2) DCONV_FN(2, 2) DCONV_FN(3, 2) DCONV_FN(4, 2)
DCONV_FN(1, 3) DCONV_FN(2, 3) DCONV_FN(3, 3)

/** Block sizes. V8 loads a block's operands (XB broadcasts, CV weight vectors) before its multiply-adds,
 *  so accumulators + XB + CV must fit the 15 SIMD registers it gives wasm, or accumulators are spilled
 *  to the stack every step (a store-to-load round trip on each spilled one's dependency chain):
 *  3 x 3, 4 x 2, 7 x 1 (the same bound holds for the filter gradient's FX x CV). Channel vectors go in
 *  blocks of 3 (4 as 2 + 2). */
static inline i32 dconv_cv(i32 nv, i32 v0) { return nv - v0 == 4 ? 2 : min_i(3, nv - v0); }
static inline i32 dconv_xb(i32 cv) { return cv == 1 ? 7 : cv == 2 ? 4 : 3; }

static void dconv_call(i32 xb, i32 cv, DCONV_ARGS) {
  switch (cv * 16 + xb) {
#define CASE(XB, CV) case CV * 16 + XB: dconv_##XB##x##CV(DCONV_PASS); return;
    CASE(1, 1) CASE(2, 1) CASE(3, 1) CASE(4, 1) CASE(5, 1) CASE(6, 1) CASE(7, 1)
    CASE(1, 2) CASE(2, 2) CASE(3, 2) CASE(4, 2)
    CASE(1, 3) CASE(2, 3) CASE(3, 3)
#undef CASE
  }
}

/** One image of the forward pass (or of the input gradient). */
__attribute__((noinline)) static void dconv_image(const DconvParams *p, i32 b, i32 tid) {
  i32 cin = p->in_c, cout = p->out_c, cp = round4(cout), nv = cp / 4, fh = p->fh, fw = p->fw;
  i32 oh = p->out_h, ow = p->out_w, hp = oh + fh - 1, wp = ow + fw - 1, in_row;
  const f32 *in = padded_image(p->x + b * p->in_h * p->in_w * cin, p->in_h, p->in_w, cin, hp, wp, p->pad_top,
                               p->pad_left, p->work + tid * WORK_FLOATS + WORK_HEADER, &in_row);
  // The image's rows and columns in padded coordinates: kernel taps outside them read only zeros.
  i32 r0 = p->pad_top, r1 = min_i(hp, r0 + p->in_h), c0 = p->pad_left, c1 = min_i(wp, c0 + p->in_w);
  const f32 *bias = p->bias ? p->w + fh * fw * cin * cp : 0;
  i32 relu = p->act == ACT_RELU, w_row = fw * cin * cp;
  f32 *out = p->y + b * oh * ow * cout;
  for (i32 oy = 0; oy < oh; oy++) {
    i32 fy0 = max_i(0, r0 - oy), fy1 = min_i(fh, r1 - oy);
    f32 *orow = out + oy * ow * cout;
    for (i32 v0 = 0, cv; v0 < nv; v0 += cv) {
      cv = dconv_cv(nv, v0);
      i32 xb = dconv_xb(cv), lanes = min_i(4 * cv, cout - 4 * v0);
      for (i32 ox = 0, n; ox < ow; ox += n) {
        n = min_i(xb, ow - ox);
        i32 fx0 = max_i(0, c0 - (ox + n - 1)), fx1 = min_i(fw, c1 - ox);
        i32 rows = fy1 > fy0 && fx1 > fx0 ? fy1 - fy0 : 0, f0 = rows ? fy0 : 0, x0 = rows ? fx0 : 0;
        dconv_call(n, cv, in + (oy + f0) * in_row + (ox + x0) * cin, in_row, cin, (fx1 - fx0) * cin, rows,
                   p->w + ((f0 * fw + x0) * cin) * cp + 4 * v0, w_row, cp, orow + ox * cout + 4 * v0, cout, lanes,
                   bias ? bias + 4 * v0 : 0, relu);
      }
    }
  }
}

/** FX consecutive taps (fx·cin + ci of one kernel row) x CV channel vectors, over `images` images of
 *  `rows` x `cols` output positions: acc[f][v] (+)= Σ x[r·x_row + c·cin + f] · dy[r·dy_row + c·dy_pos + 4v],
 *  kept in `part` (taps cp apart; start from zero when `first`). Images, rows, columns in order. */
static inline __attribute__((always_inline)) void dfilter_block(i32 FX, i32 CV, const f32 *x, i32 x_row, i32 x_img,
                                                                i32 cin, const f32 *dy, i32 dy_row, i32 dy_img,
                                                                i32 dy_pos, i32 images, i32 rows, i32 cols, f32 *part,
                                                                i32 cp, i32 first) {
  v128_t acc[8][4];
#pragma clang loop unroll(full)
  for (i32 f = 0; f < FX; f++)
#pragma clang loop unroll(full)
    for (i32 v = 0; v < CV; v++) acc[f][v] = first ? wasm_f32x4_splat(0.f) : wasm_v128_load(part + f * cp + 4 * v);
  for (i32 i = 0; i < images; i++) {
    for (i32 r = 0; r < rows; r++) {
      const f32 *xp = x + i * x_img + r * x_row, *dp = dy + i * dy_img + r * dy_row;
      for (i32 c = 0; c < cols; c++, xp += cin, dp += dy_pos) {
        v128_t d[4];
#pragma clang loop unroll(full)
        for (i32 v = 0; v < CV; v++) d[v] = wasm_v128_load(dp + 4 * v);
#pragma clang loop unroll(full)
        for (i32 f = 0; f < FX; f++) {
          v128_t b = wasm_v128_load32_splat(xp + f);
#pragma clang loop unroll(full)
          for (i32 v = 0; v < CV; v++) acc[f][v] = MADD(b, d[v], acc[f][v]);
        }
      }
    }
  }
#pragma clang loop unroll(full)
  for (i32 f = 0; f < FX; f++)
#pragma clang loop unroll(full)
    for (i32 v = 0; v < CV; v++) wasm_v128_store(part + f * cp + 4 * v, acc[f][v]);
}

#define DFILTER_ARGS                                                                                            \
  const f32 *x, i32 x_row, i32 x_img, i32 cin, const f32 *dy, i32 dy_row, i32 dy_img, i32 dy_pos, i32 images, \
      i32 rows, i32 cols, f32 *part, i32 cp, i32 first
#define DFILTER_PASS x, x_row, x_img, cin, dy, dy_row, dy_img, dy_pos, images, rows, cols, part, cp, first
#define DFILTER_FN(FX, CV) \
  __attribute__((noinline)) static void dfilter_##FX##x##CV(DFILTER_ARGS) { dfilter_block(FX, CV, DFILTER_PASS); }
DFILTER_FN(1, 1) DFILTER_FN(2, 1) DFILTER_FN(3, 1) DFILTER_FN(4, 1) DFILTER_FN(5, 1) DFILTER_FN(6, 1)
DFILTER_FN(7, 1)
DFILTER_FN(1, 2) DFILTER_FN(2, 2) DFILTER_FN(3, 2) DFILTER_FN(4, 2)
DFILTER_FN(1, 3) DFILTER_FN(2, 3) DFILTER_FN(3, 3)

static void dfilter_call(i32 fx, i32 cv, DFILTER_ARGS) {
  switch (cv * 16 + fx) {
#define CASE(FX, CV) case CV * 16 + FX: dfilter_##FX##x##CV(DFILTER_PASS); return;
    CASE(1, 1) CASE(2, 1) CASE(3, 1) CASE(4, 1) CASE(5, 1) CASE(6, 1) CASE(7, 1)
    CASE(1, 2) CASE(2, 2) CASE(3, 2) CASE(4, 2)
    CASE(1, 3) CASE(2, 3) CASE(3, 3)
#undef CASE
  }
}

/** One chunk (p->images images) of the filter gradient into its partial sum. A kernel row's fw·cin
 *  taps are contiguous in x (at a position) and in the partial sum, so blocks of taps run across
 *  kernel columns and input channels alike. With padding the images are staged (padded) as many at a
 *  time as the workspace holds; each block runs over all of them. dy is read in place even when cout
 *  is not a multiple of 4: a position's last vector then reads the next position's first channels
 *  into lanes the partial sum keeps but dconv_sum never reads; only the batch's last image, whose last
 *  vector would read past dy, is copied with its channels padded to cp. */
__attribute__((noinline)) static void dconv_filter_chunk(const DconvFilterParams *p, i32 chunk, i32 tid) {
  i32 cin = p->in_c, cout = p->out_c, cp = round4(cout), nv = cp / 4, fh = p->fh, fw = p->fw, taps = fw * cin;
  i32 in_h = p->in_h, in_w = p->in_w, oh = p->out_h, ow = p->out_w, hp = oh + fh - 1, wp = ow + fw - 1;
  i32 r0 = p->pad_top, r1 = min_i(hp, r0 + in_h), c0 = p->pad_left, c1 = min_i(wp, c0 + in_w);
  i32 pad = !(r0 == 0 && c0 == 0 && in_h == hp && in_w == wp);
  i32 x_img = pad ? hp * wp * cin : in_h * in_w * cin, x_row = pad ? wp * cin : in_w * cin;
  i32 run = pad ? max_i(1, (WORK_FLOATS - WORK_HEADER - oh * ow * cp) / x_img) : p->images;
  f32 *xbuf = p->work + tid * WORK_FLOATS + WORK_HEADER, *dybuf = xbuf + (pad ? run * x_img : 0);
  f32 *part = p->partial + chunk * fh * taps * cp;
  i32 b0 = chunk * p->images, b1 = min_i(p->batch, b0 + p->images);
  for (i32 s0 = b0, n; s0 < b1; s0 += n) {
    n = min_i(run, b1 - s0);
    i32 last = cp != cout && s0 + n == p->batch, row;
    if (last && n > 1) n--, last = 0;  // the batch's last image alone, next time round
    const f32 *x = p->x + s0 * in_h * in_w * cin, *dy = p->dy + s0 * oh * ow * cout;
    i32 dy_pos = last ? cp : cout, dy_img = oh * ow * dy_pos;
    if (pad) {
      for (i32 i = 0; i < n; i++)
        padded_image(x + i * in_h * in_w * cin, in_h, in_w, cin, hp, wp, r0, c0, xbuf + i * x_img, &row);
      x = xbuf;
    }
    if (last) {
      for (i32 q = 0; q < oh * ow; q++) {
        for (i32 c = 0; c < cout; c++) dybuf[q * cp + c] = dy[q * cout + c];
        for (i32 c = cout; c < cp; c++) dybuf[q * cp + c] = 0.f;
      }
      dy = dybuf;
    }
    for (i32 fy = 0; fy < fh; fy++) {
      i32 oy0 = max_i(0, r0 - fy), oy1 = min_i(oh, r1 - fy), rows = max_i(0, oy1 - oy0);
      for (i32 v0 = 0, cv; v0 < nv; v0 += cv) {
        cv = dconv_cv(nv, v0);
        i32 most = dconv_xb(cv), groups = (taps + most - 1) / most;
        for (i32 g = 0, t0 = 0, nt; g < groups; g++, t0 += nt) {
          nt = (taps - t0 + groups - g - 1) / (groups - g);  // equal blocks: 5 = 3 + 2, not 4 + 1
          // Output columns where some tap of the block reads the image rather than padding.
          i32 ox0 = max_i(0, c0 - (t0 + nt - 1) / cin), ox1 = min_i(ow, c1 - t0 / cin), cols = max_i(0, ox1 - ox0);
          dfilter_call(nt, cv, x + (oy0 + fy) * x_row + ox0 * cin + t0, x_row, x_img, cin,
                       dy + (oy0 * ow + ox0) * dy_pos + 4 * v0, ow * dy_pos, dy_img, dy_pos, n, cols ? rows : 0, cols,
                       part + (fy * taps + t0) * cp + 4 * v0, cp, s0 == b0);
        }
      }
    }
  }
}

/** out[i, co] = Σ_chunks partial[chunk, i, co], chunks added in order. One chunk. */
__attribute__((noinline)) static void dconv_sum(const DconvSumParams *p) {
  i32 n = p->n, cout = p->cout, cp = p->cp, size = n * cp;
  for (i32 i = 0; i < n; i++) {
    for (i32 c = 0; c < cout; c++) {
      const f32 *s = p->partial + i * cp + c;
      f32 sum = s[0];
      for (i32 k = 1; k < p->chunks; k++) sum += s[k * size];
      p->out[i * cout + c] = sum;
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Winograd F(2x2, 3x3) and F(4x4, 3x3) convolutions (stride 1, no dilation; Lavin & Gray). F(m x m, 3x3)
// computes the m x m outputs of an s x s input tile (s = m + 2; tiles m apart) with X = s² multiplications
// per channel pair instead of 9m²: 16 per 2x2 outputs instead of 36, 36 per 4x4 instead of 144.
// y[oy, ox, co] = Σ_{fy, fx, ci} in[oy+fy−top, ox+fx−left, ci] · w[fy, fx, ci, co] (zero outside the
// image); the input gradient is the same with dy for in, the filter flipped and its channel axes swapped
// (the filter transform's flip), and top, left = 2 − top, 2 − left.
//  - wino_filter (F(2x2)), wino4_filter (F(4x4)): U[ξ] = G g Gᵀ for every (ci, co), packed as sgemm's B
//    panels: [X][n/8][kp][8] (kp = k rounded up to 4, n rounded up to 8, zeros in the padding), then the
//    bias (np floats).
//  - wino_chunk, wino4_chunk (one chunk = `tiles` consecutive input tiles over images, rows, columns):
//    V = Bᵀ d B per tile and channel, written straight into sgemm's packed-A layout [X][tiles/MR][kp][MR];
//    then for each ξ the product V[ξ] · U[ξ] by sgemm's micro-kernel into M[tile][ξ][np]; then
//    y = Aᵀ m A (+ bias, relu) for the tile's m x m outputs that lie inside the output. Every output is
//    computed by one chunk in a fixed order, whatever the thread count. Edge tiles read zeros outside the
//    image and drop outputs outside the output.
//  - wino_dx_chunk, wino4_dx_chunk: the input gradient as the adjoint of the forward pass with respect
//    to d (fewer tiles than the full correlation when dy is smaller than dx): A dy Aᵀ per block of dy,
//    the products with U's channel axes swapped, B dV Bᵀ added into dx's overlapping input tiles, a
//    chunk being a run of whole images (wino_dx_chunk_m).
// Filter gradient (the adjoint of the forward pass with respect to U): dU[ξ] = Σ_tiles V[ξ]ᵀ · W[ξ] with
// V = Bᵀ x B per input tile and W = A dy Aᵀ per m x m block of dy (zeros outside dy), then dw = Gᵀ dU G.
//  - wino_filter_grad_chunk, wino4_filter_grad_chunk (a chunk = a fixed run of images, never the thread
//    count's business): the tiles of its images in blocks of `tiles`; per block V into packed-A panels
//    [X][k/MR][tiles][MR] (input channels are the rows), W into packed-B panels [X][n/8][tiles][8], then
//    the micro-kernel adds V[ξ]ᵀ W[ξ] into the chunk's partial sum [X][k12][np] (k12: k rounded up to 12,
//    whole panels of either build's 4 or 6 rows).
//  - wino_filter_grad_sum, wino4_filter_grad_sum: the chunks' partial sums added in chunk order, then
//    Gᵀ dU G into dw.
// Each of these loops is written once, for both sizes (wino_filter_m, wino_chunk_m,
// wino_filter_grad_chunk_m, wino_filter_grad_sum_m at the end of this part): always-inline bodies that
// the entry points instantiate with a constant m, so each copy is unrolled and specialised as if written
// out. Only the transforms differ: wino2_* for F(2x2), wino4_* for F(4x4), picked by m (WINO_BY_SIZE).

typedef struct {
  i32 op, k, n, flip;  // flip: 0 the forward pass, 1 the input gradient (filter flipped, channel axes swapped),
                       // 2 the adjoint input gradient (channel axes swapped only)
  const f32 *w;     // [3, 3, cin, cout] (k = cin, n = cout; with flip k = cout, n = cin)
  const f32 *bias;  // [n] or null
  f32 *u;
} WinoFilterParams;

typedef struct {
  i32 op, batch, in_h, in_w, k, out_h, out_w, n, pad_top, pad_left, tiles;
  const f32 *x;     // [batch, in_h, in_w, k]
  const f32 *u;     // the filter transform's output
  i32 bias, act;
  f32 *y;           // [batch, out_h, out_w, n]
  f32 *work;
} WinoParams;

typedef struct {
  i32 op, batch, in_h, in_w, k, out_h, out_w, n, pad_top, pad_left, tiles, images;
  const f32 *x;   // [batch, in_h, in_w, k]
  const f32 *dy;  // [batch, out_h, out_w, n]
  f32 *partial;   // chunks x [X][k12][np]
  f32 *work;
} WinoGradParams;

typedef struct {
  i32 op, chunks, k, n;
  const f32 *partial;
  f32 *dw;  // [3, 3, k, n]
} WinoGradSumParams;

static inline i32 round8(i32 n) { return (n + 7) & ~7; }
static inline i32 round12(i32 n) { return (n + 11) / 12 * 12; }
/** Floats added to the stride between the X transformed matrices (and between M's tiles): strides
 *  that are multiples of 4 KiB (64 channels x 48 or 96 tiles) put all X in one L1 set. Measured with
 *  F(2x2) at mnist-cnn's 13x13x32 → 64, batch 128, one thread: filter gradient 12.4 → 9.7 ms, forward
 *  8.4 → 8.0. */
#define WINO_SKEW 16

// F(2x2, 3x3)'s transforms (points 0, ±1, ∞; 4x4 input tiles 2 apart):
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]
//   G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
//   Aᵀ = [1 1 1 0; 0 1 −1 −1]

/** F(2x2)'s G g Gᵀ of four 3x3 filters g[fy][fx] (one per lane): u[i·4 + j]. */
static inline __attribute__((always_inline)) void wino2_ggt(const v128_t g[3][3], v128_t *u) {
  v128_t t[4][3], half = wasm_f32x4_splat(0.5f);
#pragma clang loop unroll(full)
  for (i32 j = 0; j < 3; j++) {  // G g: rows g0, (g0+g1+g2)/2, (g0−g1+g2)/2, g2
    t[0][j] = g[0][j];
    t[1][j] = wasm_f32x4_mul(half, wasm_f32x4_add(wasm_f32x4_add(g[0][j], g[1][j]), g[2][j]));
    t[2][j] = wasm_f32x4_mul(half, wasm_f32x4_add(wasm_f32x4_sub(g[0][j], g[1][j]), g[2][j]));
    t[3][j] = g[2][j];
  }
#pragma clang loop unroll(full)
  for (i32 i = 0; i < 4; i++) {  // (G g) Gᵀ
    u[i * 4 + 0] = t[i][0];
    u[i * 4 + 1] = wasm_f32x4_mul(half, wasm_f32x4_add(wasm_f32x4_add(t[i][0], t[i][1]), t[i][2]));
    u[i * 4 + 2] = wasm_f32x4_mul(half, wasm_f32x4_add(wasm_f32x4_sub(t[i][0], t[i][1]), t[i][2]));
    u[i * 4 + 3] = t[i][2];
  }
}

/** F(2x2)'s Bᵀ d B of one 4x4 tile (channels c..c+3): d[i·4 + j] rows i, columns j; v[ξ]. */
static inline __attribute__((always_inline)) void wino2_bt_tile(const v128_t *d, v128_t *v) {
  v128_t t[16];
#pragma clang loop unroll(full)
  for (i32 j = 0; j < 4; j++) {
    t[0 + j] = wasm_f32x4_sub(d[0 + j], d[8 + j]);
    t[4 + j] = wasm_f32x4_add(d[4 + j], d[8 + j]);
    t[8 + j] = wasm_f32x4_sub(d[8 + j], d[4 + j]);
    t[12 + j] = wasm_f32x4_sub(d[4 + j], d[12 + j]);
  }
#pragma clang loop unroll(full)
  for (i32 i = 0; i < 16; i += 4) {
    v[i + 0] = wasm_f32x4_sub(t[i + 0], t[i + 2]);
    v[i + 1] = wasm_f32x4_add(t[i + 1], t[i + 2]);
    v[i + 2] = wasm_f32x4_sub(t[i + 2], t[i + 1]);
    v[i + 3] = wasm_f32x4_sub(t[i + 1], t[i + 3]);
  }
}

/** F(2x2)'s Aᵀ m A: the 2x2 outputs y[i·2 + j] of a tile's 16 products m[ξ]. */
static inline __attribute__((always_inline)) void wino2_at_tile(const v128_t *m, v128_t *y) {
  v128_t s[8];
#pragma clang loop unroll(full)
  for (i32 j = 0; j < 4; j++) {
    s[j] = wasm_f32x4_add(wasm_f32x4_add(m[0 + j], m[4 + j]), m[8 + j]);
    s[4 + j] = wasm_f32x4_sub(wasm_f32x4_sub(m[4 + j], m[8 + j]), m[12 + j]);
  }
#pragma clang loop unroll(full)
  for (i32 i = 0; i < 2; i++) {
    y[2 * i] = wasm_f32x4_add(wasm_f32x4_add(s[4 * i], s[4 * i + 1]), s[4 * i + 2]);
    y[2 * i + 1] = wasm_f32x4_sub(wasm_f32x4_sub(s[4 * i + 1], s[4 * i + 2]), s[4 * i + 3]);
  }
}

/** F(2x2)'s A dy Aᵀ: a tile's 16 points o[ξ] from its 2x2 block of dy, e[i·2 + j]: rows dy0, dy0 + dy1,
 *  dy0 − dy1, −dy1, then the same over columns. */
static inline __attribute__((always_inline)) void wino2_a_tile(const v128_t *e, v128_t *o) {
  v128_t r[4][2] = {{e[0], e[1]},
                    {wasm_f32x4_add(e[0], e[2]), wasm_f32x4_add(e[1], e[3])},
                    {wasm_f32x4_sub(e[0], e[2]), wasm_f32x4_sub(e[1], e[3])},
                    {wasm_f32x4_neg(e[2]), wasm_f32x4_neg(e[3])}};
#pragma clang loop unroll(full)
  for (i32 i = 0; i < 4; i++) {
    o[4 * i] = r[i][0];
    o[4 * i + 1] = wasm_f32x4_add(r[i][0], r[i][1]);
    o[4 * i + 2] = wasm_f32x4_sub(r[i][0], r[i][1]);
    o[4 * i + 3] = wasm_f32x4_neg(r[i][1]);
  }
}

/** F(2x2)'s Gᵀ dU G: the 3x3 filter gradient o[fy·3 + fx] of one (ci, co) vector's 16 sums u[ξ]. */
static inline __attribute__((always_inline)) void wino2_gt_tile(const v128_t *u, v128_t *o) {
  v128_t r[3][4], half = wasm_f32x4_splat(0.5f);
#pragma clang loop unroll(full)
  for (i32 j = 0; j < 4; j++) {  // Gᵀ dU: rows u0 + (u1 + u2)/2, (u1 − u2)/2, (u1 + u2)/2 + u3
    v128_t s12 = wasm_f32x4_mul(half, wasm_f32x4_add(u[4 + j], u[8 + j]));
    r[0][j] = wasm_f32x4_add(u[j], s12);
    r[1][j] = wasm_f32x4_mul(half, wasm_f32x4_sub(u[4 + j], u[8 + j]));
    r[2][j] = wasm_f32x4_add(s12, u[12 + j]);
  }
#pragma clang loop unroll(full)
  for (i32 fy = 0; fy < 3; fy++) {  // (Gᵀ dU) G: the same over columns
    v128_t s12 = wasm_f32x4_mul(half, wasm_f32x4_add(r[fy][1], r[fy][2]));
    o[3 * fy] = wasm_f32x4_add(r[fy][0], s12);
    o[3 * fy + 1] = wasm_f32x4_mul(half, wasm_f32x4_sub(r[fy][1], r[fy][2]));
    o[3 * fy + 2] = wasm_f32x4_add(s12, r[fy][3]);
  }
}

/** F(2x2)'s B dV Bᵀ (the adjoint of Bᵀ d B): the 4x4 input-tile gradient o[i·4 + j] of a tile's 16
 *  points v[ξ]: rows v0, v1 − v2 + v3, v1 + v2 − v0, −v3, then the same over columns. */
static inline __attribute__((always_inline)) void wino2_b_tile(const v128_t *v, v128_t *o) {
  v128_t t[16];
#pragma clang loop unroll(full)
  for (i32 j = 0; j < 4; j++) {
    t[0 + j] = v[0 + j];
    t[4 + j] = wasm_f32x4_add(wasm_f32x4_sub(v[4 + j], v[8 + j]), v[12 + j]);
    t[8 + j] = wasm_f32x4_sub(wasm_f32x4_add(v[4 + j], v[8 + j]), v[0 + j]);
    t[12 + j] = wasm_f32x4_neg(v[12 + j]);
  }
#pragma clang loop unroll(full)
  for (i32 i = 0; i < 16; i += 4) {
    o[i + 0] = t[i + 0];
    o[i + 1] = wasm_f32x4_add(wasm_f32x4_sub(t[i + 1], t[i + 2]), t[i + 3]);
    o[i + 2] = wasm_f32x4_sub(wasm_f32x4_add(t[i + 1], t[i + 2]), t[i + 0]);
    o[i + 3] = wasm_f32x4_neg(t[i + 3]);
  }
}

// F(4x4, 3x3)'s transforms (Lavin & Gray's points 0, ±1, ±2, ∞; 6x6 input tiles 4 apart).
// Rounding: the transforms scale by up to 8 (A) and 5 (B), so results differ from im2col by more than
// F(2x2)'s (test/engine/native.test.ts states the measured errors).
//   Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]
//   G = [1/4 0 0; −1/6 −1/6 −1/6; −1/6 1/6 −1/6; 1/24 1/12 1/6; 1/24 −1/12 1/6; 0 0 1]
//   Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]

/** G's six rows applied to g0, g1, g2 (four lanes each): the divisions are IEEE's in every lane, so a
 *  lane holds what the scalar g0 / 4, −(g0 + g1 + g2) / 6, … would. */
static inline __attribute__((always_inline)) void wino4_g(v128_t g0, v128_t g1, v128_t g2, v128_t *o, i32 s) {
  v128_t four = wasm_f32x4_splat(4.f), six = wasm_f32x4_splat(6.f);
  v128_t twelve = wasm_f32x4_splat(12.f), k24 = wasm_f32x4_splat(24.f);
  v128_t a = wasm_f32x4_div(g0, k24), b = wasm_f32x4_div(g1, twelve), c = wasm_f32x4_div(g2, six);
  o[0] = wasm_f32x4_div(g0, four);
  o[s] = wasm_f32x4_div(wasm_f32x4_neg(wasm_f32x4_add(wasm_f32x4_add(g0, g1), g2)), six);
  o[2 * s] = wasm_f32x4_div(wasm_f32x4_neg(wasm_f32x4_add(wasm_f32x4_sub(g0, g1), g2)), six);
  o[3 * s] = wasm_f32x4_add(wasm_f32x4_add(a, b), c);
  o[4 * s] = wasm_f32x4_add(wasm_f32x4_sub(a, b), c);
  o[5 * s] = g2;
}

/** F(4x4)'s G g Gᵀ of four 3x3 filters g[fy][fx] (one per lane): u[i·6 + j]. */
static inline __attribute__((always_inline)) void wino4_ggt(const v128_t g[3][3], v128_t *u) {
  v128_t t[6 * 3];
#pragma clang loop unroll(full)
  for (i32 j = 0; j < 3; j++) wino4_g(g[0][j], g[1][j], g[2][j], t + j, 3);  // G g: t[i·3 + j]
#pragma clang loop unroll(full)
  for (i32 i = 0; i < 6; i++) wino4_g(t[i * 3], t[i * 3 + 1], t[i * 3 + 2], u + i * 6, 1);  // (G g) Gᵀ
}

#define F4(x) wasm_f32x4_splat(x)
/** Bᵀ applied to six vectors d[0], d[s], … d[5s]: out[0], out[s], … out[5s]. */
static inline __attribute__((always_inline)) void wino4_bt(const v128_t *d, i32 s, v128_t *o) {
  v128_t four = F4(4.f), five = F4(5.f), two = F4(2.f);
  v128_t d0 = d[0], d1 = d[s], d2 = d[2 * s], d3 = d[3 * s], d4 = d[4 * s], d5 = d[5 * s];
  v128_t a = wasm_f32x4_sub(d4, wasm_f32x4_mul(four, d2)), b = wasm_f32x4_sub(d3, wasm_f32x4_mul(four, d1));
  v128_t c = wasm_f32x4_sub(d4, d2), e = wasm_f32x4_mul(two, wasm_f32x4_sub(d3, d1));
  o[0] = wasm_f32x4_add(wasm_f32x4_sub(wasm_f32x4_mul(four, d0), wasm_f32x4_mul(five, d2)), d4);
  o[s] = wasm_f32x4_add(a, b);
  o[2 * s] = wasm_f32x4_sub(a, b);
  o[3 * s] = wasm_f32x4_add(c, e);
  o[4 * s] = wasm_f32x4_sub(c, e);
  o[5 * s] = wasm_f32x4_add(wasm_f32x4_sub(wasm_f32x4_mul(four, d1), wasm_f32x4_mul(five, d3)), d5);
}

/** F(4x4)'s Bᵀ d B of one 6x6 tile: o[ξ] from d[ξ], ξ = 6·row + column. */
static inline __attribute__((always_inline)) void wino4_bt_tile(const v128_t *d, v128_t *o) {
  v128_t t[36];
#pragma clang loop unroll(full)
  for (i32 j = 0; j < 6; j++) wino4_bt(d + j, 6, t + j);  // columns: Bᵀ d
#pragma clang loop unroll(full)
  for (i32 i = 0; i < 6; i++) wino4_bt(t + 6 * i, 1, o + 6 * i);  // rows: (Bᵀ d) B
}

/** B applied to six vectors v[0], v[s], … v[5s] (Bᵀ's transpose): 4v0, 4v5 − 4(v1 − v2) − 2(v3 − v4),
 *  −5v0 − 4(v1 + v2) − (v3 + v4), (v1 − v2) + 2(v3 − v4) − 5v5, v0 + (v1 + v2) + (v3 + v4), v5. */
static inline __attribute__((always_inline)) void wino4_b(const v128_t *v, i32 s, v128_t *o) {
  v128_t four = F4(4.f), five = F4(5.f), two = F4(2.f);
  v128_t v0 = v[0], v5 = v[5 * s];
  v128_t p = wasm_f32x4_sub(v[s], v[2 * s]), q = wasm_f32x4_sub(v[3 * s], v[4 * s]);
  v128_t r = wasm_f32x4_add(v[s], v[2 * s]), t = wasm_f32x4_add(v[3 * s], v[4 * s]);
  o[0] = wasm_f32x4_mul(four, v0);
  o[s] = wasm_f32x4_sub(wasm_f32x4_sub(wasm_f32x4_mul(four, v5), wasm_f32x4_mul(four, p)), wasm_f32x4_mul(two, q));
  o[2 * s] = wasm_f32x4_sub(wasm_f32x4_sub(wasm_f32x4_neg(wasm_f32x4_mul(five, v0)), wasm_f32x4_mul(four, r)), t);
  o[3 * s] = wasm_f32x4_sub(wasm_f32x4_add(p, wasm_f32x4_mul(two, q)), wasm_f32x4_mul(five, v5));
  o[4 * s] = wasm_f32x4_add(wasm_f32x4_add(v0, r), t);
  o[5 * s] = v5;
}

/** F(4x4)'s B dV Bᵀ (the adjoint of Bᵀ d B): the 6x6 input-tile gradient o[i·6 + j] of a tile's 36
 *  points v[ξ]. */
static inline __attribute__((always_inline)) void wino4_b_tile(const v128_t *v, v128_t *o) {
  v128_t t[36];
#pragma clang loop unroll(full)
  for (i32 j = 0; j < 6; j++) wino4_b(v + j, 6, t + j);  // columns: B dV
#pragma clang loop unroll(full)
  for (i32 i = 0; i < 6; i++) wino4_b(t + 6 * i, 1, o + 6 * i);  // rows: (B dV) Bᵀ
}

/** Aᵀ applied to six vectors m[0], m[s], … m[5s]: out[0], out[s2], out[2·s2], out[3·s2]. */
static inline __attribute__((always_inline)) void wino4_at(const v128_t *m, i32 s, v128_t *o, i32 s2) {
  v128_t s12 = wasm_f32x4_add(m[s], m[2 * s]), d12 = wasm_f32x4_sub(m[s], m[2 * s]);
  v128_t s34 = wasm_f32x4_add(m[3 * s], m[4 * s]), d34 = wasm_f32x4_sub(m[3 * s], m[4 * s]);
  o[0] = wasm_f32x4_add(wasm_f32x4_add(m[0], s12), s34);
  o[s2] = wasm_f32x4_add(d12, wasm_f32x4_mul(F4(2.f), d34));
  o[2 * s2] = wasm_f32x4_add(s12, wasm_f32x4_mul(F4(4.f), s34));
  o[3 * s2] = wasm_f32x4_add(wasm_f32x4_add(d12, wasm_f32x4_mul(F4(8.f), d34)), m[5 * s]);
}

/** F(4x4)'s Aᵀ m A: the 4x4 outputs y[i·4 + j] of a tile's 36 products m[ξ]. */
static inline __attribute__((always_inline)) void wino4_at_tile(const v128_t *m, v128_t *y) {
  v128_t s[24];
#pragma clang loop unroll(full)
  for (i32 j = 0; j < 6; j++) wino4_at(m + j, 6, s + j, 6);  // columns: Aᵀ m, s[i·6 + j]
#pragma clang loop unroll(full)
  for (i32 i = 0; i < 4; i++) wino4_at(s + 6 * i, 1, y + 4 * i, 1);  // rows: (Aᵀ m) A
}

/** A applied to four vectors e[0], e[s], e[2s], e[3s] (e0..e3): e0, e0+e1+e2+e3, e0−e1+e2−e3,
 *  e0+2e1+4e2+8e3, e0−2e1+4e2−8e3, e3 into o[0], o[s2], … o[5·s2]. */
static inline __attribute__((always_inline)) void wino4_a(const v128_t *e, i32 s, v128_t *o, i32 s2) {
  v128_t e02 = wasm_f32x4_add(e[0], e[2 * s]), e13 = wasm_f32x4_add(e[s], e[3 * s]);
  v128_t f02 = wasm_f32x4_add(e[0], wasm_f32x4_mul(F4(4.f), e[2 * s]));
  v128_t f13 = wasm_f32x4_add(wasm_f32x4_mul(F4(2.f), e[s]), wasm_f32x4_mul(F4(8.f), e[3 * s]));
  o[0] = e[0];
  o[s2] = wasm_f32x4_add(e02, e13);
  o[2 * s2] = wasm_f32x4_sub(e02, e13);
  o[3 * s2] = wasm_f32x4_add(f02, f13);
  o[4 * s2] = wasm_f32x4_sub(f02, f13);
  o[5 * s2] = e[3 * s];
}

/** F(4x4)'s A dy Aᵀ: a tile's 36 points o[ξ] from its 4x4 block of dy, e[i·4 + j]. */
static inline __attribute__((always_inline)) void wino4_a_tile(const v128_t *e, v128_t *o) {
  v128_t r[24];
#pragma clang loop unroll(full)
  for (i32 j = 0; j < 4; j++) wino4_a(e + j, 4, r + j, 4);  // columns: r[i·4 + j], i < 6
#pragma clang loop unroll(full)
  for (i32 i = 0; i < 6; i++) wino4_a(r + 4 * i, 1, o + 6 * i, 1);  // rows: o[i·6 + j], j < 6
}

/** Gᵀ applied to six vectors u[0], u[s], … u[5s]: out[0], out[s2], out[2·s2]. */
static inline __attribute__((always_inline)) void wino4_gt(const v128_t *u, i32 s, v128_t *o, i32 s2) {
  v128_t s12 = wasm_f32x4_add(u[s], u[2 * s]), d12 = wasm_f32x4_sub(u[2 * s], u[s]);
  v128_t s34 = wasm_f32x4_add(u[3 * s], u[4 * s]), d34 = wasm_f32x4_sub(u[3 * s], u[4 * s]);
  v128_t sixth = F4(1.f / 6.f);
  o[0] = wasm_f32x4_add(wasm_f32x4_sub(wasm_f32x4_mul(F4(0.25f), u[0]), wasm_f32x4_mul(sixth, s12)),
                        wasm_f32x4_mul(F4(1.f / 24.f), s34));
  o[s2] = wasm_f32x4_add(wasm_f32x4_mul(sixth, d12), wasm_f32x4_mul(F4(1.f / 12.f), d34));
  o[2 * s2] = wasm_f32x4_add(wasm_f32x4_mul(sixth, wasm_f32x4_sub(s34, s12)), u[5 * s]);
}

/** F(4x4)'s Gᵀ dU G: the 3x3 filter gradient o[fy·3 + fx] of one (ci, co) vector's 36 sums u[ξ]. */
static inline __attribute__((always_inline)) void wino4_gt_tile(const v128_t *u, v128_t *o) {
  v128_t r[18];
#pragma clang loop unroll(full)
  for (i32 j = 0; j < 6; j++) wino4_gt(u + j, 6, r + j, 6);  // columns: Gᵀ dU, r[fy·6 + j]
#pragma clang loop unroll(full)
  for (i32 fy = 0; fy < 3; fy++) wino4_gt(r + 6 * fy, 1, o + 3 * fy, 1);  // rows: (Gᵀ dU) G
}

// Both sizes, F(m x m, 3x3) for m = 2 or 4 (s = m + 2 inputs a side, X = s² points ξ): the transform
// picked by m, the tile fetch, walk and scatter, then the loop bodies and their two instances each.

/** F(m x m)'s transform `name` (m a constant, so one direct call): wino2_name or wino4_name, one of
 *  ggt (G g Gᵀ), bt_tile (Bᵀ d B), at_tile (Aᵀ m A), a_tile (A dy Aᵀ), b_tile (B dV Bᵀ), gt_tile (Gᵀ dU G). */
#define WINO_BY_SIZE(m, name, ...) ((m) == 2 ? wino2_##name(__VA_ARGS__) : wino4_##name(__VA_ARGS__))

/** Bit i set for the i < s positions p0 + i inside [0, size). */
static inline i32 wino_mask(i32 p0, i32 s, i32 size) {
  i32 m = 0;
  for (i32 i = 0; i < s; i++) m |= (p0 + i >= 0 && p0 + i < size) << i;
  return m;
}

/* The s x s block at (y0, x0) of an h x w NHWC image with ch channels, copied into stage as [s][s][cp]
   with zeros outside the image and in channels ch..cp−1. Out of line: the rare path (ch not a multiple
   of 4), which inlined made the chunks ~40% larger. */
__attribute__((noinline)) static void wino_stage(const f32 *img, i32 y0, i32 x0, i32 h, i32 w, i32 ch, i32 cp, i32 s,
                                                 f32 *stage) {
  for (i32 i = 0; i < s * s * cp; i++) stage[i] = 0.f;
  for (i32 i = 0; i < s; i++) {
    i32 y = y0 + i;
    if (y < 0 || y >= h) continue;
    for (i32 j = 0; j < s; j++) {
      i32 x = x0 + j;
      if (x < 0 || x >= w) continue;
      const f32 *from = img + (y * w + x) * ch;
      f32 *d = stage + (i * s + j) * cp;
      for (i32 c = 0; c < ch; c++) d[c] = from[c];
    }
  }
}

/* The s x s tile at (y0, x0) of an h x w NHWC image with ch channels (the input tiles, s = 4 or 6, and
   the filter gradient's m x m blocks of dy): read in place when ch is a multiple of 4 (`fast`), with a
   bit mask of the rows and one of the columns that lie inside the image (the others read as zeros,
   wino_load); else copied zero-padded into stage ([s][s][cp], wino_stage), all rows and columns valid.
   Sets the row and column strides and masks of what it returns. */
static inline __attribute__((always_inline)) const f32 *wino_tile(const f32 *img, i32 y0, i32 x0, i32 h, i32 w,
                                                                  i32 ch, i32 cp, i32 fast, f32 *stage, i32 *row,
                                                                  i32 *col, i32 *rows, i32 *cols, i32 s) {
  if (!fast) {
    wino_stage(img, y0, x0, h, w, ch, cp, s, stage);
    *rows = *cols = (1 << s) - 1;
    *row = s * cp;
    *col = cp;
    return stage;
  }
  *rows = wino_mask(y0, s, h);
  *cols = wino_mask(x0, s, w);
  *row = w * ch;
  *col = ch;
  return img + (y0 * w + x0) * ch;
}

/* Channels c … c+3 of an s x s tile from wino_tile: d[i·s + j], rows i with bit i of rows clear and
   columns j with bit j of cols clear read as zeros (never loaded: they lie outside the image). */
static inline __attribute__((always_inline)) void wino_load(i32 s, const f32 *src, i32 row, i32 col, i32 c,
                                                            i32 rows, i32 cols, v128_t *d) {
  i32 all = (1 << s) - 1;
  if (rows == all && cols == all) {
#pragma clang loop unroll(full)
    for (i32 i = 0; i < s; i++)
#pragma clang loop unroll(full)
      for (i32 j = 0; j < s; j++) d[i * s + j] = wasm_v128_load(src + i * row + j * col + c);
  } else {
#pragma clang loop unroll(full)
    for (i32 i = 0; i < s; i++)
#pragma clang loop unroll(full)
      for (i32 j = 0; j < s; j++)
        d[i * s + j] =
            (rows >> i) & (cols >> j) & 1 ? wasm_v128_load(src + i * row + j * col + c) : wasm_f32x4_splat(0.f);
  }
}

/** Bᵀ d B of channels c … c+3 of an s x s tile from wino_tile: o[ξ], ξ = s·row + column. */
static inline __attribute__((always_inline)) void wino_tile_in(i32 m, const f32 *src, i32 row, i32 col, i32 c,
                                                               i32 rows, i32 cols, v128_t *o) {
  v128_t d[36];
  wino_load(m + 2, src, row, col, c, rows, cols, d);
  WINO_BY_SIZE(m, bt_tile, d, o);
}

/** A tile's place in the batch: image b, tile row ty, tile column tx (th x tw tiles per image). */
typedef struct {
  i32 b, ty, tx;
} WinoPos;

/** Where tile t (counted over images, rows, columns) lies. */
static inline WinoPos wino_pos(i32 t, i32 th, i32 tw) { return (WinoPos){t / (th * tw), (t / tw) % th, t % tw}; }

/** The next tile: along the row, then the next row, then the next image. */
static inline void wino_next(WinoPos *q, i32 th, i32 tw) {
  if (++q->tx == tw) {
    q->tx = 0;
    if (++q->ty == th) { q->ty = 0; q->b++; }
  }
}

/** One tile's channels c … c+3 into packed panels: lane l of o[ξ] goes to q[ξ·vs + at[l]]. */
static inline __attribute__((always_inline)) void wino_scatter(i32 X, const v128_t *o, f32 *q, i32 vs,
                                                               const i32 *at) {
#pragma clang loop unroll(full)
  for (i32 xi = 0; xi < X; xi++, q += vs) {
    wasm_v128_store32_lane(q + at[0], o[xi], 0);
    wasm_v128_store32_lane(q + at[1], o[xi], 1);
    wasm_v128_store32_lane(q + at[2], o[xi], 2);
    wasm_v128_store32_lane(q + at[3], o[xi], 3);
  }
}

/* The filter transform, F(m x m): U[ξ] = G g Gᵀ for every (ci, co) into B panels, then the bias.
 * Four output lanes l … l+3 at a time: they are adjacent in a B panel (NR = 8), so each U[ξ] is one
 * vector store. */
static inline __attribute__((always_inline)) void wino_filter_m(const WinoFilterParams *p, i32 m) {
  i32 X = (m + 2) * (m + 2);
  i32 k = p->k, n = p->n, kp = round4(k), np = round8(n), panels = np / NR;
  i32 cin = p->flip ? n : k, cout = p->flip ? k : n;
  for (i32 r = 0; r < kp; r++) {
    for (i32 l = 0; l < np; l += 4) {
      v128_t g[3][3], u[36];
      for (i32 fy = 0; fy < 3; fy++)
        for (i32 fx = 0; fx < 3; fx++) {
          f32 w[4];
          for (i32 q = 0; q < 4; q++) {
            if (r >= k || l + q >= n) w[q] = 0.f;
            else if (!p->flip) w[q] = p->w[((fy * 3 + fx) * cin + r) * cout + l + q];
            else if (p->flip == 2) w[q] = p->w[((fy * 3 + fx) * cin + l + q) * cout + r];
            else w[q] = p->w[(((2 - fy) * 3 + (2 - fx)) * cin + l + q) * cout + r];
          }
          g[fy][fx] = wasm_f32x4_make(w[0], w[1], w[2], w[3]);
        }
      WINO_BY_SIZE(m, ggt, g, u);
      for (i32 xi = 0; xi < X; xi++) wasm_v128_store(p->u + ((xi * panels + l / NR) * kp + r) * NR + l % NR, u[xi]);
    }
  }
  f32 *b = p->u + X * kp * np;
  for (i32 l = 0; l < np; l++) b[l] = p->bias && l < n ? p->bias[l] : 0.f;
}

__attribute__((noinline)) static void wino_filter(const WinoFilterParams *p) { wino_filter_m(p, 2); }
__attribute__((noinline)) static void wino4_filter(const WinoFilterParams *p) { wino_filter_m(p, 4); }

/* M[t][ξ][np] = V[ξ] · U[ξ] (the forward pass's and the adjoint input gradient's products): `groups`
   packed-A panels of MR tiles (V[ξ] at v + ξ·vs) by U's B panels, 8 channels at a time, into tile t's
   row of prod (ms floats apart; rows past the chunk's tiles are never read). */
static inline __attribute__((always_inline)) void wino_products(i32 X, i32 kp, i32 panels, i32 groups, const f32 *v,
                                                                i32 vs, const f32 *u, f32 *prod, i32 ms) {
  for (i32 xi = 0; xi < X; xi++) {
    const f32 *vx = v + xi * vs;
    for (i32 pn = 0; pn < panels; pn++) {
      const f32 *ub = u + (xi * panels + pn) * kp * NR;
      for (i32 g = 0; g < groups; g++)
        micro_kernel(kp, vx + g * MR * kp, ub, prod + g * MR * ms + xi * panels * NR + pn * NR, ms, MR, NR, 0);
    }
  }
}

/* One chunk of the forward pass (or input gradient), F(m x m): `tiles` consecutive s x s input tiles, m
   apart. */
static inline __attribute__((always_inline)) void wino_chunk_m(const WinoParams *p, i32 chunk, i32 tid, i32 m) {
  i32 X = (m + 2) * (m + 2);
  i32 k = p->k, n = p->n, kp = round4(k), np = round8(n), panels = np / NR;
  i32 in_h = p->in_h, in_w = p->in_w, oh = p->out_h, ow = p->out_w;
  i32 th = (oh + m - 1) / m, tw = (ow + m - 1) / m, total = p->batch * th * tw;
  i32 t0 = chunk * p->tiles, count = min_i(p->tiles, total - t0), groups = (count + MR - 1) / MR;
  i32 tbp = (p->tiles + MR - 1) / MR * MR, vs = tbp * kp + WINO_SKEW, ms = X * np + WINO_SKEW;
  f32 *v = p->work + tid * WORK_FLOATS + WORK_HEADER, *prod = v + X * vs, *stage = prod + tbp * ms;
  i32 fast_c = (k & 3) == 0, at[4];
#pragma clang loop unroll(full)
  for (i32 l = 0; l < 4; l++) at[l] = l * MR;  // channel c + l is row c + l of the tile's panel
  // Input transform, into packed-A panels: V[ξ][g][c][r] for tile g·MR + r.
  WinoPos pos = wino_pos(t0, th, tw);
  for (i32 t = 0; t < count; t++, wino_next(&pos, th, tw)) {
    const f32 *img = p->x + pos.b * in_h * in_w * k;
    i32 iy0 = m * pos.ty - p->pad_top, ix0 = m * pos.tx - p->pad_left;
    i32 row, col, rows, cols;
    const f32 *src = wino_tile(img, iy0, ix0, in_h, in_w, k, kp, fast_c, stage, &row, &col, &rows, &cols, m + 2);
    f32 *dst = v + (t / MR) * kp * MR + t % MR;
    for (i32 c = 0; c < kp; c += 4) {
      v128_t o[36];
      wino_tile_in(m, src, row, col, c, rows, cols, o);
      wino_scatter(X, o, dst + c * MR, vs, at);
    }
  }
  wino_products(X, kp, panels, groups, v, vs, p->u, prod, ms);
  // Output transform: y = Aᵀ m A (+ bias, relu), the outputs inside the image.
  const f32 *bias = p->bias ? p->u + X * kp * np : 0;
  i32 relu = p->act == ACT_RELU;
  v128_t zero = wasm_f32x4_splat(0.f);
  pos = wino_pos(t0, th, tw);
  for (i32 t = 0; t < count; t++, wino_next(&pos, th, tw)) {
    i32 oy = m * pos.ty, ox = m * pos.tx, hm = min_i(m, oh - oy), wm = min_i(m, ow - ox);
    f32 *out = p->y + ((pos.b * oh + oy) * ow + ox) * n;
    const f32 *mt = prod + t * ms;
    for (i32 c = 0; c < n; c += 4) {
      v128_t mm[36], y[16];
#pragma clang loop unroll(full)
      for (i32 xi = 0; xi < X; xi++) mm[xi] = wasm_v128_load(mt + xi * np + c);
      WINO_BY_SIZE(m, at_tile, mm, y);
      i32 lanes = min_i(4, n - c);
      v128_t bv = bias ? wasm_v128_load(bias + c) : zero;
      for (i32 i = 0; i < hm; i++) {
        for (i32 j = 0; j < wm; j++) {
          v128_t r = y[m * i + j];
          if (bias) r = wasm_f32x4_add(r, bv);
          if (relu) r = wasm_v128_bitselect(zero, r, wasm_f32x4_lt(r, zero));
          store_lanes(out + (i * ow + j) * n + c, r, lanes);
        }
      }
    }
  }
}

__attribute__((noinline)) static void wino_chunk(const WinoParams *p, i32 chunk, i32 tid) {
  wino_chunk_m(p, chunk, tid, 2);
}
__attribute__((noinline)) static void wino4_chunk(const WinoParams *p, i32 chunk, i32 tid) {
  wino_chunk_m(p, chunk, tid, 4);
}

/* One chunk of the input gradient as the adjoint of the forward pass, F(m x m): the forward's tiles of a
   fixed run of whole images (p->tiles = images x th x tw; x is dy, y is dx, in_h x in_w dx's size, out_h
   x out_w dy's, k dy's channels, n dx's). dM = A dy Aᵀ per m x m block of dy (zeros outside dy) into
   packed-A panels; dV[ξ] = dM[ξ] · U'[ξ] (U' = G g Gᵀ with the channel axes swapped, WINO*_FILTER's flip
   2); then dx = Σ_tiles B dV Bᵀ over the s x s input tiles, which overlap by 2: the run's images zeroed,
   then each tile's inside part added in tile order, so every sum has one order whatever the thread
   count. Fewer tiles than the full correlation when dy is smaller than dx ('valid': mnist-cnn's 13x13
   input gradient takes 9 tiles of F(4x4) instead of 16). */
static inline __attribute__((always_inline)) void wino_dx_chunk_m(const WinoParams *p, i32 chunk, i32 tid, i32 m) {
  i32 s = m + 2, X = s * s;
  i32 k = p->k, n = p->n, kp = round4(k), np = round8(n), panels = np / NR;
  i32 in_h = p->in_h, in_w = p->in_w, oh = p->out_h, ow = p->out_w;
  i32 th = (oh + m - 1) / m, tw = (ow + m - 1) / m, per_image = th * tw, images = p->tiles / per_image;
  i32 b0 = chunk * images, b1 = min_i(p->batch, b0 + images);
  i32 t0 = b0 * per_image, count = (b1 - b0) * per_image, groups = (count + MR - 1) / MR;
  i32 tbp = (p->tiles + MR - 1) / MR * MR, vs = tbp * kp + WINO_SKEW, ms = X * np + WINO_SKEW;
  f32 *v = p->work + tid * WORK_FLOATS + WORK_HEADER, *prod = v + X * vs, *stage = prod + tbp * ms;
  i32 fast_k = (k & 3) == 0, at[4];
#pragma clang loop unroll(full)
  for (i32 l = 0; l < 4; l++) at[l] = l * MR;
  WinoPos pos = wino_pos(t0, th, tw);
  for (i32 t = 0; t < count; t++, wino_next(&pos, th, tw)) {
    i32 row, col, rows, cols;
    const f32 *src = wino_tile(p->x + pos.b * oh * ow * k, m * pos.ty, m * pos.tx, oh, ow, k, kp, fast_k, stage, &row,
                               &col, &rows, &cols, m);
    f32 *dst = v + (t / MR) * kp * MR + t % MR;
    for (i32 c = 0; c < kp; c += 4) {
      v128_t e[16], o[36];
      wino_load(m, src, row, col, c, rows, cols, e);
      WINO_BY_SIZE(m, a_tile, e, o);
      wino_scatter(X, o, dst + c * MR, vs, at);
    }
  }
  wino_products(X, kp, panels, groups, v, vs, p->u, prod, ms);
  i32 image = in_h * in_w * n;
  f32 *dx = p->y + b0 * image;
  for (i32 i = 0; i < (b1 - b0) * image; i++) dx[i] = 0.f;
  pos = wino_pos(t0, th, tw);
  for (i32 t = 0; t < count; t++, wino_next(&pos, th, tw)) {
    i32 iy0 = m * pos.ty - p->pad_top, ix0 = m * pos.tx - p->pad_left;
    i32 rows = wino_mask(iy0, s, in_h), cols = wino_mask(ix0, s, in_w);
    f32 *img = p->y + pos.b * image;
    const f32 *mt = prod + t * ms;
    for (i32 c = 0; c < n; c += 4) {
      v128_t mm[36], o[36];
#pragma clang loop unroll(full)
      for (i32 xi = 0; xi < X; xi++) mm[xi] = wasm_v128_load(mt + xi * np + c);
      WINO_BY_SIZE(m, b_tile, mm, o);
      i32 lanes = min_i(4, n - c);
      for (i32 i = 0; i < s; i++) {
        if (!((rows >> i) & 1)) continue;
        for (i32 j = 0; j < s; j++) {
          if (!((cols >> j) & 1)) continue;
          f32 *d = img + ((iy0 + i) * in_w + ix0 + j) * n + c;
          if (lanes == 4) {
            wasm_v128_store(d, wasm_f32x4_add(wasm_v128_load(d), o[s * i + j]));
          } else {
            f32 r[4];
            wasm_v128_store(r, o[s * i + j]);
            for (i32 l = 0; l < lanes; l++) d[l] += r[l];
          }
        }
      }
    }
  }
}

__attribute__((noinline)) static void wino_dx_chunk(const WinoParams *p, i32 chunk, i32 tid) {
  wino_dx_chunk_m(p, chunk, tid, 2);
}
__attribute__((noinline)) static void wino4_dx_chunk(const WinoParams *p, i32 chunk, i32 tid) {
  wino_dx_chunk_m(p, chunk, tid, 4);
}

/* One chunk of the filter gradient, F(m x m): the tiles of a fixed run of images, `tiles` at a time. */
static inline __attribute__((always_inline)) void wino_filter_grad_chunk_m(const WinoGradParams *p, i32 chunk, i32 tid,
                                                                           i32 m) {
  i32 X = (m + 2) * (m + 2);
  i32 k = p->k, n = p->n, kp = round4(k), np = round8(n), k12 = round12(k), panels = np / NR;
  i32 groups = (k + MR - 1) / MR, T = p->tiles;
  i32 in_h = p->in_h, in_w = p->in_w, oh = p->out_h, ow = p->out_w;
  i32 th = (oh + m - 1) / m, tw = (ow + m - 1) / m, per_image = th * tw;
  i32 b0 = chunk * p->images, b1 = min_i(p->batch, b0 + p->images);
  i32 first_tile = b0 * per_image, last_tile = b1 * per_image;
  i32 vs = k12 * T + WINO_SKEW, ws = np * T + WINO_SKEW;
  f32 *v = p->work + tid * WORK_FLOATS + WORK_HEADER, *w = v + X * vs, *stage = w + X * ws;
  f32 *part = p->partial + chunk * X * k12 * np;
  i32 fast_k = (k & 3) == 0, fast_n = (n & 3) == 0;
  for (i32 t0 = first_tile; t0 < last_tile; t0 += T) {
    i32 count = min_i(T, last_tile - t0);
    WinoPos pos = wino_pos(t0, th, tw);
    for (i32 t = 0; t < count; t++, wino_next(&pos, th, tw)) {
      // V = Bᵀ x B: lane l of channel vector c goes to row c + l of packed A.
      const f32 *img = p->x + pos.b * in_h * in_w * k;
      i32 iy0 = m * pos.ty - p->pad_top, ix0 = m * pos.tx - p->pad_left;
      i32 row, col, rows, cols;
      const f32 *src = wino_tile(img, iy0, ix0, in_h, in_w, k, kp, fast_k, stage, &row, &col, &rows, &cols, m + 2);
      for (i32 c = 0; c < kp; c += 4) {
        v128_t o[36];
        wino_tile_in(m, src, row, col, c, rows, cols, o);
        i32 at[4];
#pragma clang loop unroll(full)
        for (i32 l = 0; l < 4; l++) at[l] = ((c + l) / MR * T + t) * MR + (c + l) % MR;
        wino_scatter(X, o, v, vs, at);
      }
      // W = A dy Aᵀ over the m x m block of dy at (m·ty, m·tx) (zeros outside dy), into packed-B panels.
      i32 oy = m * pos.ty, ox = m * pos.tx;
      i32 drow, dcol, drows, dcols;
      const f32 *ds = wino_tile(p->dy + pos.b * oh * ow * n, oy, ox, oh, ow, n, np, fast_n, stage, &drow, &dcol, &drows,
                                &dcols, m);
      for (i32 c = 0; c < np; c += 4) {
        v128_t e[16], o[36];
        wino_load(m, ds, drow, dcol, c, c < n ? drows : 0, dcols, e);
        WINO_BY_SIZE(m, a_tile, e, o);
        f32 *q = w + (c / NR * T + t) * NR + c % NR;
#pragma clang loop unroll(full)
        for (i32 xi = 0; xi < X; xi++) wasm_v128_store(q + xi * ws, o[xi]);
      }
    }
    // part[ξ][ci][co] (+)= Σ_t V[ξ][t][ci] · W[ξ][t][co]: MR input channels x 8 output channels at a time.
    i32 acc = t0 > first_tile;
    for (i32 xi = 0; xi < X; xi++) {
      for (i32 pn = 0; pn < panels; pn++) {
        const f32 *wb = w + xi * ws + pn * T * NR;
        for (i32 g = 0; g < groups; g++)
          micro_kernel(count, v + xi * vs + g * T * MR, wb, part + (xi * k12 + g * MR) * np + pn * NR, np, MR,
                       NR, acc);
      }
    }
  }
}

__attribute__((noinline)) static void wino_filter_grad_chunk(const WinoGradParams *p, i32 chunk, i32 tid) {
  wino_filter_grad_chunk_m(p, chunk, tid, 2);
}
__attribute__((noinline)) static void wino4_filter_grad_chunk(const WinoGradParams *p, i32 chunk, i32 tid) {
  wino_filter_grad_chunk_m(p, chunk, tid, 4);
}

/* The filter gradient's last step, F(m x m): the chunks' partial sums added in chunk order, then Gᵀ dU G. */
static inline __attribute__((always_inline)) void wino_filter_grad_sum_m(const WinoGradSumParams *p, i32 m) {
  i32 X = (m + 2) * (m + 2);
  i32 k = p->k, n = p->n, np = round8(n), k12 = round12(k), size = X * k12 * np;
  for (i32 ci = 0; ci < k; ci++) {
    for (i32 c = 0; c < n; c += 4) {
      v128_t u[36], o[9];
#pragma clang loop unroll(full)
      for (i32 xi = 0; xi < X; xi++) {
        const f32 *s = p->partial + (xi * k12 + ci) * np + c;
        v128_t sum = wasm_v128_load(s);
        for (i32 ch = 1; ch < p->chunks; ch++) sum = wasm_f32x4_add(sum, wasm_v128_load(s + ch * size));
        u[xi] = sum;
      }
      WINO_BY_SIZE(m, gt_tile, u, o);
      i32 lanes = min_i(4, n - c);
#pragma clang loop unroll(full)
      for (i32 f = 0; f < 9; f++) store_lanes(p->dw + (f * k + ci) * n + c, o[f], lanes);
    }
  }
}

__attribute__((noinline)) static void wino_filter_grad_sum(const WinoGradSumParams *p) {
  wino_filter_grad_sum_m(p, 2);
}
__attribute__((noinline)) static void wino4_filter_grad_sum(const WinoGradSumParams *p) {
  wino_filter_grad_sum_m(p, 4);
}
#undef WINO_BY_SIZE
#undef F4

// ---------------------------------------------------------------------------------------------------
// Max-pool gradient: dx[argmax of each window] += dy (the first maximum wins, as in tfjs's cpu kernel).

typedef struct {
  i32 op, batch, in_h, in_w, ch, out_h, out_w, ph, pw, stride_h, stride_w, pad_top, pad_left;
  const f32 *x;
  const f32 *dy;
  f32 *dx;
} PoolParams;

/** First valid window position of output (oy, ox) as an element index into one image (or -1). */
static i32 window_argmax_scalar(const PoolParams *p, const f32 *img, i32 oy, i32 ox, i32 c) {
  f32 best = 0.f;
  i32 at = -1;
  for (i32 wy = 0; wy < p->ph; wy++) {
    i32 iy = oy * p->stride_h + wy - p->pad_top;
    if (iy < 0 || iy >= p->in_h) continue;
    for (i32 wx = 0; wx < p->pw; wx++) {
      i32 ix = ox * p->stride_w + wx - p->pad_left;
      if (ix < 0 || ix >= p->in_w) continue;
      i32 idx = (iy * p->in_w + ix) * p->ch + c;
      if (at < 0 || img[idx] > best) { best = img[idx]; at = idx; }
    }
  }
  return at;
}

/** Four channels at once: per lane, the first position holding the window's maximum. */
static void window_argmax4(const PoolParams *p, const f32 *img, i32 oy, i32 ox, i32 c, i32 at[4]) {
  v128_t best = wasm_f32x4_splat(0.f), where = wasm_i32x4_splat(-1);
  i32 first = 1;
  for (i32 wy = 0; wy < p->ph; wy++) {
    i32 iy = oy * p->stride_h + wy - p->pad_top;
    if (iy < 0 || iy >= p->in_h) continue;
    for (i32 wx = 0; wx < p->pw; wx++) {
      i32 ix = ox * p->stride_w + wx - p->pad_left;
      if (ix < 0 || ix >= p->in_w) continue;
      i32 idx = (iy * p->in_w + ix) * p->ch + c;
      v128_t v = wasm_v128_load(img + idx);
      v128_t pos = wasm_i32x4_add(wasm_i32x4_splat(idx), wasm_i32x4_make(0, 1, 2, 3));
      if (first) { best = v; where = pos; first = 0; continue; }
      v128_t gt = wasm_f32x4_gt(v, best);  // strict: ties keep the earlier position
      best = wasm_v128_bitselect(v, best, gt);
      where = wasm_v128_bitselect(pos, where, gt);
    }
  }
  wasm_v128_store(at, where);
}

/** The ph x pw window at `at` (rows in_w·ch apart, 4 channels): per lane its first maximum (strict >,
 *  so ties keep the earlier position and NaN never wins, as tfjs's cpu kernel), and in `which` that
 *  position's index wy·pw + wx. */
static inline __attribute__((always_inline)) v128_t window_first_max(const f32 *at, i32 in_w, i32 ch, i32 ph, i32 pw, v128_t *which) {
  v128_t best = wasm_v128_load(at), w_best = wasm_i32x4_splat(0);
  for (i32 wy = 0, w = 0; wy < ph; wy++) {
    for (i32 wx = 0; wx < pw; wx++, w++) {
      if (w == 0) continue;
      v128_t v = wasm_v128_load(at + (wy * in_w + wx) * ch);
      v128_t gt = wasm_f32x4_gt(v, best);
      best = wasm_v128_bitselect(v, best, gt);
      w_best = wasm_v128_bitselect(wasm_i32x4_splat(w), w_best, gt);
    }
  }
  *which = w_best;
  return best;
}

/** Windows that tile the image (stride = window, no padding, at least 4 channels; e.g. 2x2 pools):
 *  each input element is in at most one window, so dx is written once, without a zeroing pass (only
 *  the rows and columns no window covers are zeroed). Per window and 4 channels: the first maximum's
 *  window position, then every position gets dy there and 0 elsewhere (as 0 + dy, like the general
 *  path's +=, so a -0 gradient comes out +0 in both). Channels go 4 at a time; when their number is not
 *  a multiple of 4 the last 4 overlap the previous ones (the same values written again). */
static inline __attribute__((always_inline)) void max_pool_grad_tiled_at(const PoolParams *p, i32 b, const uint8_t *arg,
                                                                         const i32 ph, const i32 pw) {
  i32 ch = p->ch, in_w = p->in_w, img_size = p->in_h * in_w * ch;
  i32 covered_h = p->out_h * ph, covered_w = p->out_w * pw;
  const f32 *img = arg ? 0 : p->x + b * img_size;
  f32 *dimg = p->dx + b * img_size;
  for (i32 iy = 0; iy < p->in_h; iy++) {
    i32 from = iy < covered_h ? covered_w : 0;
    for (i32 i = (iy * in_w + from) * ch; i < (iy + 1) * in_w * ch; i++) dimg[i] = 0.f;
  }
  v128_t zero = wasm_f32x4_splat(0.f);
  for (i32 oy = 0; oy < p->out_h; oy++) {
    for (i32 ox = 0; ox < p->out_w; ox++) {
      const f32 *g = p->dy + ((b * p->out_h + oy) * p->out_w + ox) * ch;
      i32 corner = ((oy * ph) * in_w + ox * pw) * ch;
      for (i32 c4 = 0; c4 < ch; c4 += 4) {
        i32 c = c4 + 4 > ch ? ch - 4 : c4;
        v128_t which;
        if (arg)  // the window positions max_pool_tiled recorded, one byte each
          which = wasm_u32x4_extend_low_u16x8(wasm_u16x8_extend_low_u8x16(wasm_v128_load32_zero(
              arg + ((b * p->out_h + oy) * p->out_w + ox) * ch + c)));
        else
          window_first_max(img + corner + c, in_w, ch, ph, pw, &which);
        v128_t gv = wasm_v128_load(g + c);
        for (i32 wy = 0, w = 0; wy < ph; wy++) {
          for (i32 wx = 0; wx < pw; wx++, w++) {
            v128_t hit = wasm_i32x4_eq(which, wasm_i32x4_splat(w));
            wasm_v128_store(dimg + corner + (wy * in_w + wx) * ch + c, wasm_f32x4_add(zero, wasm_v128_and(gv, hit)));
          }
        }
      }
    }
  }
}

/** max_pool_grad_tiled_at, with the window's size a constant for 2x2 pools (the common case: clang
 *  then unrolls the window loops, ~2x faster here) and read from p otherwise. */
__attribute__((noinline)) static void max_pool_grad_tiled(const PoolParams *p, i32 b, const uint8_t *arg) {
  if (p->ph == 2 && p->pw == 2) max_pool_grad_tiled_at(p, b, arg, 2, 2);
  else max_pool_grad_tiled_at(p, b, arg, p->ph, p->pw);
}

/** max_pool_grad_tiled from the window positions max_pool_tiled recorded (x: those bytes, not the
 *  pooled input): the same dx, without reading the input again. One image per chunk. */
__attribute__((noinline)) static void max_pool_grad_arg(const PoolParams *p, i32 b) {
  max_pool_grad_tiled(p, b, (const uint8_t *)p->x);
}

/** One image per chunk. */
__attribute__((noinline)) static void max_pool_grad(const PoolParams *p, i32 b) {
  i32 ch = p->ch, vec = ch & ~3, img_size = p->in_h * p->in_w * ch;
  if (p->stride_h == p->ph && p->stride_w == p->pw && p->pad_top == 0 && p->pad_left == 0 && ch >= 4 &&
      p->out_h * p->ph <= p->in_h && p->out_w * p->pw <= p->in_w) {
    max_pool_grad_tiled(p, b, 0);
    return;
  }
  {
    const f32 *img = p->x + b * img_size;
    f32 *dimg = p->dx + b * img_size;
    for (i32 i = 0; i < img_size; i++) dimg[i] = 0.f;
    for (i32 oy = 0; oy < p->out_h; oy++) {
      for (i32 ox = 0; ox < p->out_w; ox++) {
        const f32 *g = p->dy + ((b * p->out_h + oy) * p->out_w + ox) * ch;
        i32 c = 0;
        for (; c < vec; c += 4) {
          i32 at[4];
          window_argmax4(p, img, oy, ox, c, at);
          for (i32 l = 0; l < 4; l++) if (at[l] >= 0) dimg[at[l]] += g[c + l];
        }
        for (; c < ch; c++) {
          i32 at = window_argmax_scalar(p, img, oy, ox, c);
          if (at >= 0) dimg[at] += g[c];
        }
      }
    }
  }
}

/** Max pooling over windows that tile the image (max_pool_grad_tiled's case, at least 4 channels):
 *  per window and 4 channels, the first maximum (strict >, so NaN never replaces a value: tfjs's cpu kernel's rule, and
 *  the position max_pool_grad sends the gradient to). When the channels are not a multiple of 4 the
 *  last 4 overlap the previous ones (the same values written again). One image per chunk. When dy is
 *  not null it receives, one byte per output element, that maximum's window position wy·pw + wx (the
 *  fused convnet step keeps it for max_pool_grad_arg instead of the pooled input). */
static inline __attribute__((always_inline)) void max_pool_tiled_at(const PoolParams *p, i32 b, const i32 ph, const i32 pw) {
  i32 ch = p->ch, in_w = p->in_w;
  const f32 *img = p->x + b * p->in_h * in_w * ch;
  f32 *out = p->dx + b * p->out_h * p->out_w * ch;  // dx is the output here
  uint8_t *arg = p->dy ? (uint8_t *)p->dy + b * p->out_h * p->out_w * ch : 0;
  for (i32 oy = 0; oy < p->out_h; oy++) {
    for (i32 ox = 0; ox < p->out_w; ox++, out += ch) {
      i32 corner = ((oy * ph) * in_w + ox * pw) * ch;
      for (i32 c4 = 0; c4 < ch; c4 += 4) {
        i32 c = c4 + 4 > ch ? ch - 4 : c4;
        v128_t which;
        wasm_v128_store(out + c, window_first_max(img + corner + c, in_w, ch, ph, pw, &which));
        if (arg) {
          v128_t w16 = wasm_u16x8_narrow_i32x4(which, which);
          wasm_v128_store32_lane(arg + (oy * p->out_w + ox) * ch + c, wasm_u8x16_narrow_i16x8(w16, w16), 0);
        }
      }
    }
  }
}

/** max_pool_tiled_at, with a constant window for 2x2 pools (as max_pool_grad_tiled). */
__attribute__((noinline)) static void max_pool_tiled(const PoolParams *p, i32 b) {
  if (p->ph == 2 && p->pw == 2) max_pool_tiled_at(p, b, 2, 2);
  else max_pool_tiled_at(p, b, p->ph, p->pw);
}

// ---------------------------------------------------------------------------------------------------
// Bias and activation: out[r, c] = act(x[r, c] + bias[c]) (bias may be null; act none or relu, where
// relu(v) = v < 0 ? 0 : v keeps -0 and NaN as tfjs's kernels do). Without relu, `combine` makes it any
// per-channel binary op: x + v, x · v, x − v or v − x (tfjs's broadcast Add, Multiply and Sub along the
// last axis: BatchNorm's gradient; one IEEE operation per element, so the stock kernels' bits).

enum { COMBINE_ADD = 0, COMBINE_MUL = 1, COMBINE_SUB = 2, COMBINE_RSUB = 3 };

typedef struct {
  i32 op, rows, cols;
  const f32 *x;
  const f32 *bias;
  f32 *out;
  i32 act, combine;
} BiasActParams;

#define BIAS_ACT_ROWS 256

/** Four vectors per iteration; the variants are separate loops so none tests a flag per element. */
#define BIAS_ACT_LOOP(expr)                                                                       \
  for (; c + 16 <= vec; c += 16) {                                                                \
    v128_t v0 = wasm_v128_load(x + c), v1 = wasm_v128_load(x + c + 4);                            \
    v128_t v2 = wasm_v128_load(x + c + 8), v3 = wasm_v128_load(x + c + 12);                       \
    wasm_v128_store(out + c, expr(v0, 0));                                                        \
    wasm_v128_store(out + c + 4, expr(v1, 4));                                                    \
    wasm_v128_store(out + c + 8, expr(v2, 8));                                                    \
    wasm_v128_store(out + c + 12, expr(v3, 12));                                                  \
  }                                                                                               \
  for (; c < vec; c += 4) {                                                                       \
    wasm_v128_store(out + c, expr(wasm_v128_load(x + c), 0));                                     \
  }
#define ADD_B(v, o) wasm_f32x4_add(v, wasm_v128_load(bias + c + (o)))
#define MUL_B(v, o) wasm_f32x4_mul(v, wasm_v128_load(bias + c + (o)))
#define SUB_B(v, o) wasm_f32x4_sub(v, wasm_v128_load(bias + c + (o)))
#define RSUB_B(v, o) wasm_f32x4_sub(wasm_v128_load(bias + c + (o)), v)
#define RELU(v) wasm_v128_bitselect(zero, v, wasm_f32x4_lt(v, zero))
#define ADD_B_RELU(v, o) RELU(ADD_B(v, o))
#define RELU_ONLY(v, o) RELU(v)

__attribute__((noinline)) static void bias_act(const BiasActParams *p, i32 chunk) {
  i32 cols = p->cols, r0 = chunk * BIAS_ACT_ROWS, r1 = min_i(p->rows, r0 + BIAS_ACT_ROWS);
  i32 relu = p->act == ACT_RELU, vec = cols & ~3;
  const f32 *bias = p->bias;
  v128_t zero = wasm_f32x4_splat(0.f);
  for (i32 r = r0; r < r1; r++) {
    const f32 *x = p->x + r * cols;
    f32 *out = p->out + r * cols;
    i32 c = 0;
    if (bias && relu) { BIAS_ACT_LOOP(ADD_B_RELU) }
    else if (bias && p->combine == COMBINE_MUL) { BIAS_ACT_LOOP(MUL_B) }
    else if (bias && p->combine == COMBINE_SUB) { BIAS_ACT_LOOP(SUB_B) }
    else if (bias && p->combine == COMBINE_RSUB) { BIAS_ACT_LOOP(RSUB_B) }
    else if (bias) { BIAS_ACT_LOOP(ADD_B) }
    else if (relu) { BIAS_ACT_LOOP(RELU_ONLY) }
    for (; c < cols; c++) {
      f32 v = !bias                         ? x[c]
              : p->combine == COMBINE_MUL  ? x[c] * bias[c]
              : p->combine == COMBINE_SUB  ? x[c] - bias[c]
              : p->combine == COMBINE_RSUB ? bias[c] - x[c]
                                           : x[c] + bias[c];
      out[c] = relu && v < 0.f ? 0.f : v;
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Batch normalisation with given moments: out[r, c] = offset[c] + (x[r, c] − mean[c])·scale[c] /
// factor[c], factor = √(variance + ε) in float32 from the caller: tfjs-backend-wasm 4.22's
// FusedBatchNorm, its operations in its order and precision (so the same bits): (x − mean)·scale in
// float32, then the division and the offset's addition in float64 (its factors are a double array),
// rounded once to float32. Four channels a vector (two per double operation) instead of one element
// at a time with a square root and a division each.

typedef struct {
  i32 op, rows, cols;
  const f32 *x;
  const f32 *mean, *scale, *factor, *offset;  // [cols] each
  f32 *out;
} BatchNormParams;

/** Rows per chunk (rows are independent). */
#define BATCH_NORM_ROWS 256

__attribute__((noinline)) static void batch_norm(const BatchNormParams *p, i32 chunk) {
  i32 cols = p->cols, r0 = chunk * BATCH_NORM_ROWS, r1 = min_i(p->rows, r0 + BATCH_NORM_ROWS), vec = cols & ~3;
  for (i32 r = r0; r < r1; r++) {
    const f32 *x = p->x + r * cols;
    f32 *out = p->out + r * cols;
    i32 c = 0;
    for (; c < vec; c += 4) {
      v128_t t = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(x + c), wasm_v128_load(p->mean + c)),
                                wasm_v128_load(p->scale + c));
      v128_t f = wasm_v128_load(p->factor + c), o = wasm_v128_load(p->offset + c);
      v128_t lo = wasm_f64x2_add(wasm_f64x2_promote_low_f32x4(o),
                                 wasm_f64x2_div(wasm_f64x2_promote_low_f32x4(t), wasm_f64x2_promote_low_f32x4(f)));
      v128_t hi = wasm_f64x2_add(wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(o, o, 2, 3, 2, 3)),
                                 wasm_f64x2_div(wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(t, t, 2, 3, 2, 3)),
                                                wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(f, f, 2, 3, 2, 3))));
      wasm_v128_store(out + c, wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(lo), wasm_f32x4_demote_f64x2_zero(hi), 0,
                                                  1, 4, 5));
    }
    for (; c < cols; c++)
      out[c] = (f32)((double)p->offset[c] + (double)((x[c] - p->mean[c]) * p->scale[c]) / (double)p->factor[c]);
  }
}

// The gradient of that batch normalisation, tfjs-core's FusedBatchNorm gradient for per-channel
// moments in one pass over x and dy instead of its ~13 (a subtraction, seven multiplications and a
// tile over the whole activation, four column sums): the same float32 operations on each element,
// each channel's four sums taken over the rows in order from 0 as column_sum takes them, so the
// same bits. Per channel r = 1/√(variance + ε) (tfjs's rsqrt, from the caller), nr = −r and
// mhrc = r·r·r·(−0.5) (from the caller); with xm = x − mean and dys = dy·scale:
//   dx = (dy·r)·scale,  Σ nr·dys (mean),  Σ (mhrc·xm)·dys (variance),  Σ dy·(xm·r) (scale),  Σ dy (offset).

typedef struct {
  i32 op, rows, cols;
  const f32 *x, *dy;
  const f32 *mean, *scale, *rstd, *nrstd, *mhrc;  // [cols] each
  f32 *dx;                                        // [rows, cols]
  f32 *sums;  // [4, cols]: mean, variance, scale, offset (BATCH_NORM_TRAIN_GRAD: [7, cols], see there)
} BatchNormGradParams;

__attribute__((noinline)) static void batch_norm_grad(const BatchNormGradParams *p, i32 store_dx) {
  i32 cols = p->cols, vec = cols & ~3;
  f32 *s_mean = p->sums, *s_var = p->sums + cols, *s_scale = p->sums + 2 * cols, *s_off = p->sums + 3 * cols;
  for (i32 c = 0; c < 4 * cols; c++) p->sums[c] = 0.f;
  for (i32 r = 0; r < p->rows; r++) {
    const f32 *x = p->x + r * cols, *dy = p->dy + r * cols;
    f32 *dx = p->dx + r * cols;
    i32 c = 0;
    for (; c < vec; c += 4) {
      v128_t g = wasm_v128_load(dy + c), sc = wasm_v128_load(p->scale + c), rs = wasm_v128_load(p->rstd + c);
      v128_t xm = wasm_f32x4_sub(wasm_v128_load(x + c), wasm_v128_load(p->mean + c));
      v128_t dys = wasm_f32x4_mul(g, sc);
      if (store_dx) wasm_v128_store(dx + c, wasm_f32x4_mul(wasm_f32x4_mul(g, rs), sc));
      wasm_v128_store(s_mean + c, wasm_f32x4_add(wasm_v128_load(s_mean + c), wasm_f32x4_mul(wasm_v128_load(p->nrstd + c), dys)));
      wasm_v128_store(s_var + c, wasm_f32x4_add(wasm_v128_load(s_var + c),
                                                wasm_f32x4_mul(wasm_f32x4_mul(wasm_v128_load(p->mhrc + c), xm), dys)));
      wasm_v128_store(s_scale + c, wasm_f32x4_add(wasm_v128_load(s_scale + c), wasm_f32x4_mul(g, wasm_f32x4_mul(xm, rs))));
      wasm_v128_store(s_off + c, wasm_f32x4_add(wasm_v128_load(s_off + c), g));
    }
    for (; c < cols; c++) {
      f32 g = dy[c], xm = x[c] - p->mean[c], dys = g * p->scale[c];
      if (store_dx) dx[c] = (g * p->rstd[c]) * p->scale[c];
      s_mean[c] += p->nrstd[c] * dys;
      s_var[c] += (p->mhrc[c] * xm) * dys;
      s_scale[c] += g * (xm * p->rstd[c]);
      s_off[c] += g;
    }
  }
}

// The whole gradient of a BatchNormalization layer in training (batch moments, then the above):
// tfjs-core's tape through tf.moments adds, to batch_norm_grad's dx_F, the variance's path dd =
// (Σ_var / n)·((x − mean)·2) (mean's, square's and sub's gradients) and the mean's path, tiled
// (Σ_mean + −Σdd) / n, as ((dx_F + dd) + that): three passes over x (and two over dy) instead of the
// tape's ~10 whole-activation operations, each value the same float32 operations. sums holds, per
// channel: [0, 4) batch_norm_grad's four, then 4: Σ_var / n, 5: Σdd, 6: the mean path's value.

__attribute__((noinline)) static void batch_norm_train_grad(const BatchNormGradParams *p) {
  i32 rows = p->rows, cols = p->cols, vec = cols & ~3;
  f32 n = (f32)rows, *s_mean = p->sums, *s_var = p->sums + cols, *ds = p->sums + 4 * cols;
  f32 *s_dd = p->sums + 5 * cols, *tm = p->sums + 6 * cols;
  batch_norm_grad(p, 0);
  for (i32 c = 0; c < cols; c++) ds[c] = s_var[c] / n, s_dd[c] = 0.f;
  v128_t two = wasm_f32x4_splat(2.f);
  for (i32 r = 0; r < rows; r++) {
    const f32 *x = p->x + r * cols;
    i32 c = 0;
    for (; c < vec; c += 4) {
      v128_t xm2 = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(x + c), wasm_v128_load(p->mean + c)), two);
      wasm_v128_store(s_dd + c, wasm_f32x4_add(wasm_v128_load(s_dd + c), wasm_f32x4_mul(wasm_v128_load(ds + c), xm2)));
    }
    for (; c < cols; c++) s_dd[c] += ds[c] * ((x[c] - p->mean[c]) * 2.f);
  }
  for (i32 c = 0; c < cols; c++) tm[c] = (s_mean[c] + -s_dd[c]) / n;
  for (i32 r = 0; r < rows; r++) {
    const f32 *x = p->x + r * cols, *dy = p->dy + r * cols;
    f32 *dx = p->dx + r * cols;
    i32 c = 0;
    for (; c < vec; c += 4) {
      v128_t xm2 = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(x + c), wasm_v128_load(p->mean + c)), two);
      v128_t dd = wasm_f32x4_mul(wasm_v128_load(ds + c), xm2);
      v128_t dxf = wasm_f32x4_mul(wasm_f32x4_mul(wasm_v128_load(dy + c), wasm_v128_load(p->rstd + c)), wasm_v128_load(p->scale + c));
      wasm_v128_store(dx + c, wasm_f32x4_add(wasm_f32x4_add(dxf, dd), wasm_v128_load(tm + c)));
    }
    for (; c < cols; c++) {
      f32 dd = ds[c] * ((x[c] - p->mean[c]) * 2.f), dxf = (dy[c] * p->rstd[c]) * p->scale[c];
      dx[c] = (dxf + dd) + tm[c];
    }
  }
}

// Batch moments for training: mean = Σx / n and variance = Σ(x − mean)² / n over the rows, each sum
// in row order from 0 (tf.moments on mtl's column sums: the same bits), without writing x − mean
// and its square out. out: [2, cols].

typedef struct {
  i32 op, rows, cols;
  const f32 *x;
  f32 *out;
} MomentsParams;

__attribute__((noinline)) static void batch_moments(const MomentsParams *p) {
  i32 rows = p->rows, cols = p->cols, vec = cols & ~3;
  f32 n = (f32)rows, *mean = p->out, *var = p->out + cols;
  for (i32 c = 0; c < 2 * cols; c++) p->out[c] = 0.f;
  for (i32 r = 0; r < rows; r++) {
    const f32 *x = p->x + r * cols;
    i32 c = 0;
    for (; c < vec; c += 4) wasm_v128_store(mean + c, wasm_f32x4_add(wasm_v128_load(mean + c), wasm_v128_load(x + c)));
    for (; c < cols; c++) mean[c] += x[c];
  }
  for (i32 c = 0; c < cols; c++) mean[c] = mean[c] / n;
  for (i32 r = 0; r < rows; r++) {
    const f32 *x = p->x + r * cols;
    i32 c = 0;
    for (; c < vec; c += 4) {
      v128_t d = wasm_f32x4_sub(wasm_v128_load(x + c), wasm_v128_load(mean + c));
      wasm_v128_store(var + c, wasm_f32x4_add(wasm_v128_load(var + c), wasm_f32x4_mul(d, d)));
    }
    for (; c < cols; c++) {
      f32 d = x[c] - mean[c];
      var[c] += d * d;
    }
  }
  for (i32 c = 0; c < cols; c++) var[c] = var[c] / n;
}

// ---------------------------------------------------------------------------------------------------
// Column sums: out[c] = Σ_r in[r·cols + c] (the bias gradient of a dense or conv layer). One chunk:
// the sum order must not depend on the thread count.

typedef struct {
  i32 op, rows, cols;
  const f32 *in;
  f32 *out;
} SumParams;

__attribute__((noinline)) static void column_sum(const SumParams *p) {
  i32 cols = p->cols, vec = cols & ~3;
  for (i32 c = 0; c < cols; c++) p->out[c] = 0.f;
  for (i32 r = 0; r < p->rows; r++) {
    const f32 *row = p->in + r * cols;
    i32 c = 0;
    for (; c < vec; c += 4) wasm_v128_store(p->out + c, wasm_f32x4_add(wasm_v128_load(p->out + c), wasm_v128_load(row + c)));
    for (; c < cols; c++) p->out[c] += row[c];
  }
}

// ---------------------------------------------------------------------------------------------------
// Adam: one pass per variable instead of tfjs's fifteen ops, with the same float32 operations in the
// same order (tfjs-core's AdamOptimizer.applyGradients), so the results are the same bits.

typedef struct {
  i32 op, n;
  const f32 *x, *m, *v, *g;
  f32 *x_out, *m_out, *v_out;
  f32 beta1, one_minus_beta1, beta2, one_minus_beta2, one_minus_acc_beta1, one_minus_acc_beta2, epsilon, neg_lr;
} AdamParams;

__attribute__((noinline)) static void adam(const AdamParams *p) {
  v128_t b1 = wasm_f32x4_splat(p->beta1), c1 = wasm_f32x4_splat(p->one_minus_beta1);
  v128_t b2 = wasm_f32x4_splat(p->beta2), c2 = wasm_f32x4_splat(p->one_minus_beta2);
  v128_t d1 = wasm_f32x4_splat(p->one_minus_acc_beta1), d2 = wasm_f32x4_splat(p->one_minus_acc_beta2);
  v128_t eps = wasm_f32x4_splat(p->epsilon), nlr = wasm_f32x4_splat(p->neg_lr);
  i32 i = 0, vec = p->n & ~3;
  for (; i < vec; i += 4) {
    v128_t g = wasm_v128_load(p->g + i);
    v128_t m = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(p->m + i), b1), wasm_f32x4_mul(g, c1));
    v128_t v = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(p->v + i), b2), wasm_f32x4_mul(wasm_f32x4_mul(g, g), c2));
    v128_t step = wasm_f32x4_div(wasm_f32x4_div(m, d1), wasm_f32x4_add(wasm_f32x4_sqrt(wasm_f32x4_div(v, d2)), eps));
    wasm_v128_store(p->m_out + i, m);
    wasm_v128_store(p->v_out + i, v);
    wasm_v128_store(p->x_out + i, wasm_f32x4_add(wasm_f32x4_mul(step, nlr), wasm_v128_load(p->x + i)));
  }
  for (; i < p->n; i++) {
    f32 g = p->g[i];
    f32 m = p->m[i] * p->beta1 + g * p->one_minus_beta1;
    f32 v = p->v[i] * p->beta2 + (g * g) * p->one_minus_beta2;
    f32 step = (m / p->one_minus_acc_beta1) / (__builtin_sqrtf(v / p->one_minus_acc_beta2) + p->epsilon);
    p->m_out[i] = m;
    p->v_out[i] = v;
    p->x_out[i] = step * p->neg_lr + p->x[i];
  }
}

// ---------------------------------------------------------------------------------------------------
// The pieces of a fused dense training step (src/engine/fused/dense.ts) that are not gemms or Adam:
// batch row gathers, softmax cross-entropy with its gradient, the relu mask and L1/L2 penalties. Each
// is one chunk: they are a few microseconds, and their sums must not depend on the thread count.

typedef struct {
  i32 op, rows, row_len;
  const i32 *src;  // any 4-byte elements: float pixels or int32 labels
  const i32 *index;
  i32 *dst;
} GatherParams;

__attribute__((noinline)) static void gather_rows(const GatherParams *p) {
  for (i32 r = 0; r < p->rows; r++) {
    const i32 *s = p->src + p->index[r] * p->row_len;
    i32 *d = p->dst + r * p->row_len, c = 0;
    for (; c + 4 <= p->row_len; c += 4) wasm_v128_store(d + c, wasm_v128_load(s + c));
    for (; c < p->row_len; c++) d[c] = s[c];
  }
}

// No libc here, so exp and log are our own, accurate to double precision: rounded to float32 they are
// (all but always) the nearest float32 to the true value; tfjs's float32 exp and log are within an ulp.
static double exp_d(double x) {
  if (x < -745.0) return 0.0;
  if (x > 709.0) x = 709.0;
  double n = __builtin_nearbyint(x * 1.4426950408889634);  // x / ln 2
  double r = (x - n * 0.6931471803691238) - n * 1.9082149292705877e-10;  // ln 2 in two parts
  // Taylor to r^12 for |r| <= ln2/2: the truncation error is about one double ulp (< 2e-16).
  double t = 1.0 + r * (1.0 + r * (1.0 / 2 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120 + r * (1.0 / 720 + r * (1.0 / 5040 +
             r * (1.0 / 40320 + r * (1.0 / 362880 + r * (1.0 / 3628800 + r * (1.0 / 39916800 + r * (1.0 / 479001600))))))))))));
  // Scale by 2^n in two steps so that n down to -1074 (subnormal results) stays representable.
  i32 n1 = (i32)n / 2, n2 = (i32)n - n1;
  union { double d; uint64_t u; } s1 = {.u = (uint64_t)(1023 + n1) << 52}, s2 = {.u = (uint64_t)(1023 + n2) << 52};
  return t * s1.d * s2.d;
}

/** exp_d of two doubles at once (f64x2): the same double operations in the same order, so the same bits
 *  lane by lane (nearest = nearbyint's ties-to-even; n / 2 truncated toward zero as C's int division). */
static inline __attribute__((always_inline)) v128_t exp_d2(v128_t x) {
  v128_t under = wasm_f64x2_lt(x, wasm_f64x2_splat(-745.0));
  x = wasm_v128_bitselect(wasm_f64x2_splat(709.0), x, wasm_f64x2_gt(x, wasm_f64x2_splat(709.0)));
  v128_t n = wasm_f64x2_nearest(wasm_f64x2_mul(x, wasm_f64x2_splat(1.4426950408889634)));
  v128_t r = wasm_f64x2_sub(wasm_f64x2_sub(x, wasm_f64x2_mul(n, wasm_f64x2_splat(0.6931471803691238))),
                            wasm_f64x2_mul(n, wasm_f64x2_splat(1.9082149292705877e-10)));
#define EXP_TERM(c, acc) wasm_f64x2_add(wasm_f64x2_splat(c), wasm_f64x2_mul(r, (acc)))
  v128_t t = EXP_TERM(1.0 / 39916800, wasm_f64x2_splat(1.0 / 479001600));
  t = EXP_TERM(1.0 / 3628800, t);
  t = EXP_TERM(1.0 / 362880, t);
  t = EXP_TERM(1.0 / 40320, t);
  t = EXP_TERM(1.0 / 5040, t);
  t = EXP_TERM(1.0 / 720, t);
  t = EXP_TERM(1.0 / 120, t);
  t = EXP_TERM(1.0 / 24, t);
  t = EXP_TERM(1.0 / 6, t);
  t = EXP_TERM(1.0 / 2, t);
  t = EXP_TERM(1.0, t);
  t = EXP_TERM(1.0, t);
#undef EXP_TERM
  v128_t ni = wasm_i32x4_trunc_sat_f64x2_zero(n);
  v128_t n1 = wasm_i32x4_shr(wasm_i32x4_sub(ni, wasm_i32x4_shr(ni, 31)), 1), n2 = wasm_i32x4_sub(ni, n1);
  v128_t s1 = wasm_i64x2_shl(wasm_i64x2_add(wasm_i64x2_extend_low_i32x4(n1), wasm_i64x2_splat(1023)), 52);
  v128_t s2 = wasm_i64x2_shl(wasm_i64x2_add(wasm_i64x2_extend_low_i32x4(n2), wasm_i64x2_splat(1023)), 52);
  return wasm_v128_andnot(wasm_f64x2_mul(wasm_f64x2_mul(t, s1), s2), under);
}

/** Natural log of x > 0 (finite): x = 2^e · m with m in [√½, √2), log m = 2·atanh((m−1)/(m+1)). */
static double log_d(double x) {
  union { double d; uint64_t u; } v = {.d = x};
  i32 e = (i32)((v.u >> 52) & 0x7ff) - 1023;
  v.u = (v.u & 0x000fffffffffffffull) | 0x3ff0000000000000ull;  // m in [1, 2)
  if (v.d > 1.4142135623730951) { v.d *= 0.5; e++; }
  double s = (v.d - 1.0) / (v.d + 1.0), s2 = s * s;  // |s| <= 0.172: s^2 <= 0.0295
  double series = 1.0 + s2 * (1.0 / 3 + s2 * (1.0 / 5 + s2 * (1.0 / 7 + s2 * (1.0 / 9 + s2 * (1.0 / 11 + s2 * (1.0 / 13 + s2 * (1.0 / 15 + s2 / 17)))))));
  return e * 0.6931471805599453 + 2.0 * s * series;
}

typedef struct {
  i32 op, rows, cols;
  const f32 *logits;
  const i32 *labels;
  f32 *dlogits;  // (softmax − one-hot) · scale
  f32 scale;     // 1 / rows: the mean's gradient
  f32 *loss;     // out: mean of −log softmax[label]
  f32 *correct;  // out: rows whose first maximum is the label
} XentParams;

/** Rows per block of softmax_xent: each row's exponentials, log and exponentials again are one long chain
 *  of dependent double operations; a block's rows take each phase together, so their chains overlap. */
#define XENT_ROWS 8

/** As tfjs's softmaxCrossEntropy (mean over the batch) and argMax(-1).equal(labels).sum(). A label
 *  outside [0, cols) is an all-zero one-hot row, as tf.oneHot makes it: loss 0, gradient softmax. */
__attribute__((noinline)) static void softmax_xent(const XentParams *p) {
  double loss = 0.0;
  i32 correct = 0;
  for (i32 r0 = 0; r0 < p->rows; r0 += XENT_ROWS) {
    i32 r1 = min_i(p->rows, r0 + XENT_ROWS);
    double lse[XENT_ROWS];
    for (i32 r = r0; r < r1; r++) {
      const f32 *l = p->logits + r * p->cols;
      f32 max = l[0];
      for (i32 c = 1; c < p->cols; c++) if (l[c] > max) max = l[c];
      // The exponentials two at a time (exp_d2); the sum still adds them one by one, c ascending.
      double sum = 0.0;
      i32 c = 0;
      for (; c + 2 <= p->cols; c += 2) {
        v128_t e = exp_d2(wasm_f64x2_sub(wasm_f64x2_make((double)l[c], (double)l[c + 1]), wasm_f64x2_splat((double)max)));
        sum += wasm_f64x2_extract_lane(e, 0);
        sum += wasm_f64x2_extract_lane(e, 1);
      }
      for (; c < p->cols; c++) sum += exp_d((double)l[c] - max);
      lse[r - r0] = max + log_d(sum);
    }
    for (i32 r = r0; r < r1; r++) {
      const f32 *l = p->logits + r * p->cols;
      f32 *d = p->dlogits + r * p->cols;
      double z = lse[r - r0];
      i32 label = p->labels[r], arg = 0, c = 0;
      for (c = 1; c < p->cols; c++) if (l[c] > l[arg]) arg = c;
      for (c = 0; c + 2 <= p->cols; c += 2) {
        v128_t e = exp_d2(wasm_f64x2_sub(wasm_f64x2_make((double)l[c], (double)l[c + 1]), wasm_f64x2_splat(z)));
        d[c] = ((f32)wasm_f64x2_extract_lane(e, 0) - (c == label ? 1.f : 0.f)) * p->scale;
        d[c + 1] = ((f32)wasm_f64x2_extract_lane(e, 1) - (c + 1 == label ? 1.f : 0.f)) * p->scale;
      }
      for (; c < p->cols; c++) {
        f32 prob = (f32)exp_d((double)l[c] - z);
        d[c] = (prob - (c == label ? 1.f : 0.f)) * p->scale;
      }
      if (label >= 0 && label < p->cols) loss += z - l[label];
      correct += arg == label;
    }
  }
  *p->loss = (f32)(loss / p->rows);
  *p->correct = (f32)correct;
}

typedef struct {
  i32 op, n;
  const f32 *dh;
  const f32 *h;  // the layer's relu output, or its input (the same sign)
  f32 *out;      // dh itself for in place
} ReluMaskParams;

/** dh · step(h), as tfjs's relu gradients (mul(dy, step(x))): a multiply, so signs of zeros match too. */
__attribute__((noinline)) static void relu_mask(const ReluMaskParams *p) {
  v128_t one = wasm_f32x4_splat(1.f), zero = wasm_f32x4_splat(0.f);
  i32 i = 0, vec = p->n & ~3;
  for (; i < vec; i += 4) {
    v128_t step = wasm_v128_and(wasm_f32x4_gt(wasm_v128_load(p->h + i), zero), one);
    wasm_v128_store(p->out + i, wasm_f32x4_mul(wasm_v128_load(p->dh + i), step));
  }
  for (; i < p->n; i++) p->out[i] = p->dh[i] * (p->h[i] > 0.f ? 1.f : 0.f);
}

/** dh · (h · 2), as tfjs's square gradient (mul(dy, mul(cast(x), 2))): BatchNorm's batch variance. */
__attribute__((noinline)) static void square_grad(const ReluMaskParams *p) {
  v128_t two = wasm_f32x4_splat(2.f);
  i32 i = 0, vec = p->n & ~3;
  for (; i < vec; i += 4)
    wasm_v128_store(p->out + i, wasm_f32x4_mul(wasm_v128_load(p->dh + i), wasm_f32x4_mul(wasm_v128_load(p->h + i), two)));
  for (; i < p->n; i++) p->out[i] = p->dh[i] * (p->h[i] * 2.f);
}

typedef struct {
  i32 op, n;
  const f32 *w;
  f32 *g;     // in/out: the loss gradient, plus the penalty's
  f32 l1, l2;
  f32 *loss;  // in/out: plus l1·Σ|w| + l2·Σw²
} PenaltyParams;

/** regularization.ts's λ1·Σ|w| + λ2·Σw² and its gradient as tfjs derives it: abs' is step(w, −1)
 *  (−1 at 0) and square' is 2w, so g += λ1·(w > 0 ? 1 : −1) + λ2·(2w). */
__attribute__((noinline)) static void penalty(const PenaltyParams *p) {
  f32 abs_sum = 0.f, sq_sum = 0.f;
  for (i32 i = 0; i < p->n; i++) {
    f32 w = p->w[i], g = p->g[i];
    if (p->l1 > 0.f) { g += p->l1 * (w > 0.f ? 1.f : -1.f); abs_sum += w < 0.f ? -w : w; }
    if (p->l2 > 0.f) { g += p->l2 * (w * 2.f); sq_sum += w * w; }
    p->g[i] = g;
  }
  if (p->l1 > 0.f) *p->loss += abs_sum * p->l1;
  if (p->l2 > 0.f) *p->loss += sq_sum * p->l2;
}

// ---------------------------------------------------------------------------------------------------
// Sparse operands: MNIST-like pixel batches are ~80% exact zeros, so the first layer's two gemms
// (x·W and xᵀ·dz) skip them. sparsify compresses a dense batch both by rows (CSR, for x·W) and by
// columns (CSC, for xᵀ·dz); spmm multiplies either form by a dense matrix. spmm sums in the order
// of the dense gemm above (k ascending within each K block of k_step(k), blocks added to the
// running total one after another, then bias and activation), so a product comes out with the same
// bits as gemm's, except that an exact zero's sign may differ: skipped terms are only ±0 · b.

typedef struct {
  i32 op, rows, cols;
  const f32 *src;     // the dataset [*, cols], or the batch itself when index is null
  const i32 *index;   // the batch's rows of src, or null
  f32 *x;             // out: the dense batch [rows, cols], or null (always null when index is)
  i32 max_nnz;        // above this many nonzeros, only count them (the caller takes the dense gemm)
  i32 *nnz;           // out
  i32 *row_ptr, *row_cols;  // CSR: rows + 1, max_nnz + 4 (vector stores run up to 3 slots past the end)
  f32 *row_vals;            //      max_nnz + 4
  i32 *col_ptr, *col_rows;  // CSC: cols + 1, max_nnz
  f32 *col_vals;            //      max_nnz
  const f32 *background;    // [cols] or null: compress x − background (x itself is stored as it is)
  // The row cache (or cache_row null; only with index and without x): each data set row's compressed
  // entries, kept the first time a batch holds the row, so that later batches copy them instead of
  // reading and compacting the dense row (MNIST: 3,136 bytes of pixels → ~150 entries of 6 bytes).
  i32 *cache_row;           // [data set rows, 2]: offset in the cache and entry count, or offset −1
  uint16_t *cache_cols;     // [cache_cap + 8] (cols ≤ 65,536)
  f32 *cache_vals;          // [cache_cap + 8]
  i32 cache_cap;
  i32 *cache_used;          // in/out: entries kept so far (a row that does not fit is not kept)
  i32 *cache_hits;          // out: this batch's rows copied from the cache
} SparsifyParams;

/** Gather the batch and compress it, in one pass over its rows: by rows (CSR) with one vector step per
 *  four values, compacting each quad's nonzeros with a lane shuffle chosen by its zero mask (no
 *  branch on the data: whether a pixel is zero is unpredictable). Then by columns (CSC) from the
 *  CSR, rows ascending within each column. With a background m (has_background, a constant in each
 *  of the two inlined copies) the compressed matrix is S = x − m: an entry equal to its column's m
 *  becomes an exact zero and is skipped; the dense batch stored at x is still x itself. */
/** One quad v of columns c … c+3 (ne: its lanes ≠ 0) appended at entry n, unless only counting; the new n. */
static inline __attribute__((always_inline)) i32 sparsify_quad(v128_t v, v128_t ne, i32 c, i32 n, i32 counting,
                                                               const uint8_t shuffle[16][16], f32 *restrict row_vals,
                                                               i32 *restrict row_cols) {
  i32 mask = wasm_i32x4_bitmask(ne);
  if (!counting) {
    v128_t sh = wasm_v128_load(shuffle[mask]);
    wasm_v128_store(row_vals + n, wasm_i8x16_swizzle(v, sh));
    wasm_v128_store(row_cols + n, wasm_i8x16_swizzle(wasm_i32x4_add(wasm_i32x4_splat(c), wasm_i32x4_make(0, 1, 2, 3)), sh));
  }
  return n + __builtin_popcount(mask);
}

static inline __attribute__((always_inline)) void sparsify_rows(const SparsifyParams *p, const i32 has_background) {
  const i32 rows = p->rows, cols = p->cols, max_nnz = p->max_nnz, vec = cols & ~3;
  const f32 *restrict bg = p->background;
  i32 *restrict row_ptr = p->row_ptr, *restrict row_cols = p->row_cols, *restrict col_ptr = p->col_ptr;
  i32 *restrict col_rows = p->col_rows;
  f32 *restrict row_vals = p->row_vals, *restrict col_vals = p->col_vals;
  // shuffle[m]: the lanes set in mask m moved to the front, as byte indices for i8x16.swizzle (built
  // here: the module has no data segments).
  uint8_t shuffle[16][16];
  for (i32 m = 0; m < 16; m++) {
    i32 o = 0;
    for (i32 lane = 0; lane < 4; lane++) if (m & (1 << lane)) { for (i32 b = 0; b < 4; b++) shuffle[m][4 * o + b] = (uint8_t)(4 * lane + b); o++; }
    for (; o < 4; o++) for (i32 b = 0; b < 4; b++) shuffle[m][4 * o + b] = 0x80;
  }
  v128_t zero = wasm_f32x4_splat(0.f);
  i32 n = 0, counting = 0, hits = 0;
  i32 *cache_row = p->index && !p->x ? p->cache_row : 0;
  // First one load per 64-byte line of every row (volatile: kept though unused). A batch's rows lie
  // anywhere in the data set and start cold; touched together, their misses overlap (MNIST batch of
  // 128 from 54,000 rows: 0.13 → 0.09 ms per call; the rows already in cache: 0.06). A cached row's
  // entries instead of its pixels.
  for (i32 r = 0; r < rows; r++) {
    if (cache_row && cache_row[2 * p->index[r]] >= 0) {
      i32 at = cache_row[2 * p->index[r]], len = cache_row[2 * p->index[r] + 1];
      const volatile uint16_t *cc = p->cache_cols + at;
      const volatile f32 *cv = p->cache_vals + at;
      for (i32 q = 0; q < len; q += 32) (void)cc[q];
      for (i32 q = 0; q < len; q += 16) (void)cv[q];
      continue;
    }
    const volatile f32 *s = p->index ? p->src + p->index[r] * cols : p->src + r * cols;
    for (i32 c = 0; c < cols; c += 16) (void)s[c];
  }
  for (i32 r = 0; r < rows; r++) {
    const f32 *s = p->index ? p->src + p->index[r] * cols : p->src + r * cols;
    f32 *x = p->x ? p->x + r * cols : 0;
    row_ptr[r] = n;
    // A row may add up to cols entries: past the limit, only count (the arrays hold max_nnz + 4).
    if (!counting && n > max_nnz - cols) counting = 1;
    i32 *cached = cache_row ? cache_row + 2 * p->index[r] : 0;
    if (cached && cached[0] >= 0) {
      // The row's entries as the compaction below made them the first time: copied, cols widened.
      i32 len = cached[1];
      if (!counting) {
        const uint16_t *cc = p->cache_cols + cached[0];
        const f32 *cv = p->cache_vals + cached[0];
        for (i32 q = 0; q < len; q += 4) {
          wasm_v128_store(row_cols + n + q, wasm_u32x4_load16x4(cc + q));
          wasm_v128_store(row_vals + n + q, wasm_v128_load(cv + q));
        }
      }
      n += len;
      hits++;
      continue;
    }
    i32 row_start = n;
    i32 c = 0;
    // Sixteen values at a time, skipped at once when all are zero (MNIST's borders; rows in cache:
    // 0.07 → 0.06 ms per call), else compacted a quad at a time.
    for (; c + 16 <= vec; c += 16) {
      v128_t v[4], ne[4];
#pragma clang loop unroll(full)
      for (i32 q = 0; q < 4; q++) {
        v[q] = wasm_v128_load(s + c + 4 * q);
        if (x) wasm_v128_store(x + c + 4 * q, v[q]);
        if (has_background) v[q] = wasm_f32x4_sub(v[q], wasm_v128_load(bg + c + 4 * q));
        ne[q] = wasm_f32x4_ne(v[q], zero);
      }
      if (!wasm_v128_any_true(wasm_v128_or(wasm_v128_or(ne[0], ne[1]), wasm_v128_or(ne[2], ne[3])))) continue;
#pragma clang loop unroll(full)
      for (i32 q = 0; q < 4; q++) n = sparsify_quad(v[q], ne[q], c + 4 * q, n, counting, shuffle, row_vals, row_cols);
    }
    for (; c < vec; c += 4) {
      v128_t v = wasm_v128_load(s + c);
      if (x) wasm_v128_store(x + c, v);
      if (has_background) v = wasm_f32x4_sub(v, wasm_v128_load(bg + c));
      n = sparsify_quad(v, wasm_f32x4_ne(v, zero), c, n, counting, shuffle, row_vals, row_cols);
    }
    for (; c < cols; c++) {
      f32 v = s[c];
      if (x) x[c] = v;
      if (has_background) v -= bg[c];
      if (!counting) { row_cols[n] = c; row_vals[n] = v; }
      n += v != 0.f;
    }
    i32 len = n - row_start, used = cached ? *p->cache_used : 0;
    if (cached && !counting && len <= p->cache_cap - used) {
      for (i32 q = 0; q < len; q++) {
        p->cache_cols[used + q] = (uint16_t)row_cols[row_start + q];
        p->cache_vals[used + q] = row_vals[row_start + q];
      }
      cached[0] = used;
      cached[1] = len;
      *p->cache_used = used + len;
    }
  }
  if (cache_row) *p->cache_hits = hits;
  *p->nnz = n;
  if (n > max_nnz || counting) { *p->nnz = n > max_nnz ? n : max_nnz + 1; return; }
  row_ptr[rows] = n;
  for (i32 c = 0; c <= cols; c++) col_ptr[c] = 0;
  for (i32 q = 0; q < n; q++) col_ptr[row_cols[q] + 1]++;
  for (i32 c = 0; c < cols; c++) col_ptr[c + 1] += col_ptr[c];
  // col_ptr[c] is column c's next free slot meanwhile, which leaves it holding column c+1's start.
  for (i32 r = 0; r < rows; r++) {
    for (i32 q = row_ptr[r]; q < row_ptr[r + 1]; q++) {
      i32 at = col_ptr[row_cols[q]]++;
      col_rows[at] = r;
      col_vals[at] = row_vals[q];
    }
  }
  for (i32 c = cols; c > 0; c--) col_ptr[c] = col_ptr[c - 1];
  col_ptr[0] = 0;
}

__attribute__((noinline)) static void sparsify(const SparsifyParams *p) {
  if (p->background) sparsify_rows(p, 1);
  else sparsify_rows(p, 0);
}

typedef struct {
  i32 op, rows, n, k;  // C[rows, n] = A[rows, k] · B[k, n], A compressed by rows
  const i32 *ptr, *idx;
  const f32 *vals;
  const f32 *b;
  i32 ldb;
  f32 *c;
  i32 ldc;
  const f32 *bias;
  i32 act;
  i32 *segments;  // scratch, 2 x rows: each row's run of entries in the current K block
  const f32 *u, *v;  // or null: a rank-1 term u[r] · v[j] added to C before the bias (rows with u 0 skip it)
} SpmmParams;

/** Output rows per chunk (rows are independent, so threads change nothing in the results). */
#define SPMM_ROWS 32

/** `width` (32 or 4) columns from j of one output row over the entries [q, qe) of one K block: C = the
 *  block's sum (first block) or sum + C, as gemm_region's passes over C. Two entries per iteration,
 *  still added in order. */
#define SPMM_BLOCK(width)                                                                                   \
  __attribute__((noinline)) static void spmm_block##width(const SpmmParams *p, i32 q, i32 qe, f32 *out, i32 j, i32 first) { \
    enum { V = width / 4 };                                                                                 \
    const i32 *idx = p->idx;                                                                                \
    const f32 *vals = p->vals, *b = p->b + j;                                                               \
    i32 ldb = p->ldb;                                                                                       \
    v128_t s[V];                                                                                            \
    for (i32 v = 0; v < V; v++) s[v] = wasm_f32x4_splat(0.f);                                               \
    for (; q + 2 <= qe; q += 2) {                                                                           \
      const f32 *b0 = b + idx[q] * ldb, *b1 = b + idx[q + 1] * ldb;                                         \
      v128_t a0 = wasm_f32x4_splat(vals[q]), a1 = wasm_f32x4_splat(vals[q + 1]);                            \
      for (i32 v = 0; v < V; v++) s[v] = MADD(a0, wasm_v128_load(b0 + 4 * v), s[v]); \
      for (i32 v = 0; v < V; v++) s[v] = MADD(a1, wasm_v128_load(b1 + 4 * v), s[v]); \
    }                                                                                                       \
    if (q < qe) {                                                                                           \
      const f32 *b0 = b + idx[q] * ldb;                                                                     \
      v128_t a0 = wasm_f32x4_splat(vals[q]);                                                                \
      for (i32 v = 0; v < V; v++) s[v] = MADD(a0, wasm_v128_load(b0 + 4 * v), s[v]); \
    }                                                                                                       \
    for (i32 v = 0; v < V; v++)                                                                             \
      wasm_v128_store(out + j + 4 * v, first ? s[v] : wasm_f32x4_add(s[v], wasm_v128_load(out + j + 4 * v))); \
  }
SPMM_BLOCK(32)
SPMM_BLOCK(4)

/** K blocks outermost, as in gemm_region; within one, column blocks outside and rows inside: a block's
 *  slice of B (e.g. 262 x 32 of W) is what the rows share. */
__attribute__((noinline)) static void spmm(const SpmmParams *p, i32 chunk) {
  i32 kstep = k_step(p->k), r0 = chunk * SPMM_ROWS, r1 = min_i(p->rows, r0 + SPMM_ROWS);
  i32 *start = p->segments, *end = p->segments + p->rows;
  for (i32 r = r0; r < r1; r++) end[r] = p->ptr[r];
  for (i32 k0 = 0, first = 1; k0 < p->k || first; k0 += kstep, first = 0) {
    for (i32 r = r0; r < r1; r++) {
      i32 q = start[r] = end[r], q1 = p->ptr[r + 1];
      while (q < q1 && p->idx[q] < k0 + kstep) q++;
      end[r] = q;
    }
    i32 j = 0;
    for (; j + 32 <= p->n; j += 32)
      for (i32 r = r0; r < r1; r++) spmm_block32(p, start[r], end[r], p->c + r * p->ldc, j, first);
    for (; j + 4 <= p->n; j += 4)
      for (i32 r = r0; r < r1; r++) spmm_block4(p, start[r], end[r], p->c + r * p->ldc, j, first);
    for (; j < p->n; j++) {
      for (i32 r = r0; r < r1; r++) {
        f32 sum = 0.f, *out = p->c + r * p->ldc + j;
        // One lane of the vector madd: the same rounding as the gemm's (there is no scalar fma).
        for (i32 q = start[r]; q < end[r]; q++)
          sum = wasm_f32x4_extract_lane(MADD(wasm_f32x4_splat(p->vals[q]), wasm_f32x4_splat(p->b[p->idx[q] * p->ldb + j]), wasm_f32x4_splat(sum)), 0);
        *out = first ? sum : sum + *out;
      }
    }
  }
  if (!p->bias && p->act == ACT_LINEAR && !p->u) return;
  // The epilogue on the chunk's rows while they are in cache: C + u·vᵀ, + bias (the same float add as
  // gemm_epilogue's), relu as v < 0 ? 0 : v (pmax: NaN and −0 pass through alike).
  v128_t zero = wasm_f32x4_splat(0.f);
  i32 vec = p->n & ~3;
  for (i32 r = r0; r < r1; r++) {
    f32 *out = p->c + r * p->ldc, ur = p->u ? p->u[r] : 0.f;
    v128_t u = wasm_f32x4_splat(ur);
    i32 j = 0;
    for (; j < vec; j += 4) {
      v128_t x = wasm_v128_load(out + j);
      if (ur != 0.f) x = MADD(u, wasm_v128_load(p->v + j), x);
      if (p->bias) x = wasm_f32x4_add(x, wasm_v128_load(p->bias + j));
      if (p->act == ACT_RELU) x = wasm_f32x4_pmax(x, zero);
      wasm_v128_store(out + j, x);
    }
    for (; j < p->n; j++) {
      f32 x = out[j];
      if (ur != 0.f) x = wasm_f32x4_extract_lane(MADD(u, wasm_f32x4_splat(p->v[j]), wasm_f32x4_splat(x)), 0);
      if (p->bias) x += p->bias[j];
      out[j] = p->act == ACT_RELU && x < 0.f ? 0.f : x;
    }
  }
}

// The background corrections of a sparse first layer whose batch x was compressed as S = x − 1·mᵀ
// (sparsify with a background m): x·W = S·W + 1·(mᵀW), so the forward adds the row mᵀW to the
// bias (vec_mat: one chunk, k·n multiply-adds), and xᵀ·dz = Sᵀ·dz + m·(1ᵀdz), so the weight
// gradient's spmm adds the outer product of m with dz's column sums (its u, v).

typedef struct {
  i32 op, k, n;
  const f32 *v;     // [k]
  const f32 *b;     // [k, n]
  const f32 *bias;  // [n] or null
  f32 *out;         // [n] = bias + Σ_k v[k] · b[k, :], k ascending
} VecMatParams;

__attribute__((noinline)) static void vec_mat(const VecMatParams *p) {
  i32 n = p->n, vec = n & ~3;
  for (i32 j = 0; j < n; j++) p->out[j] = 0.f;
  for (i32 k = 0; k < p->k; k++) {
    f32 s = p->v[k];
    if (s == 0.f) continue;
    const f32 *row = p->b + k * n;
    v128_t a = wasm_f32x4_splat(s);
    i32 j = 0;
    for (; j < vec; j += 4) wasm_v128_store(p->out + j, MADD(a, wasm_v128_load(row + j), wasm_v128_load(p->out + j)));
    for (; j < n; j++) p->out[j] = wasm_f32x4_extract_lane(MADD(a, wasm_f32x4_splat(row[j]), wasm_f32x4_splat(p->out[j])), 0);
  }
  if (p->bias)
    for (i32 j = 0; j < n; j++) p->out[j] += p->bias[j];
}

// ---------------------------------------------------------------------------------------------------
// Byte features (pixels) to float32 through data/normalize.ts's per-feature affine map y = x·a + b:
// a and b are doubles, the product and the sum are taken in double and rounded to float32 once, as
// the JavaScript does (a byte is exact in double), so the same bits. Rows are independent: chunks.

typedef struct {
  i32 op, rows, cols;
  const uint8_t *x;     // [rows, cols]
  const double *a, *b;  // [cols], or [1] when shared
  i32 shared;
  f32 *out;             // [rows, cols]
} BytesAffineParams;

#define BYTES_AFFINE_ROWS 256

static inline __attribute__((always_inline)) v128_t bytes_affine4(const uint8_t *x, v128_t a01, v128_t a23, v128_t b01,
                                                                   v128_t b23) {
  v128_t v = wasm_u32x4_extend_low_u16x8(wasm_u16x8_extend_low_u8x16(wasm_v128_load32_zero(x)));
  v128_t lo = wasm_f64x2_add(wasm_f64x2_mul(wasm_f64x2_convert_low_i32x4(v), a01), b01);
  v128_t hi = wasm_f64x2_add(wasm_f64x2_mul(wasm_f64x2_convert_low_i32x4(wasm_i32x4_shuffle(v, v, 2, 3, 2, 3)), a23), b23);
  return wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(lo), wasm_f32x4_demote_f64x2_zero(hi), 0, 1, 4, 5);
}

__attribute__((noinline)) static void bytes_affine(const BytesAffineParams *p, i32 chunk) {
  i32 r0 = chunk * BYTES_AFFINE_ROWS, r1 = min_i(p->rows, r0 + BYTES_AFFINE_ROWS), cols = p->cols, vec = cols & ~3;
  for (i32 r = r0; r < r1; r++) {
    const uint8_t *x = p->x + r * cols;
    f32 *out = p->out + r * cols;
    i32 c = 0;
    if (p->shared) {
      v128_t a = wasm_f64x2_splat(p->a[0]), b = wasm_f64x2_splat(p->b[0]);
      for (; c < vec; c += 4) wasm_v128_store(out + c, bytes_affine4(x + c, a, a, b, b));
    } else {
      for (; c < vec; c += 4)
        wasm_v128_store(out + c, bytes_affine4(x + c, wasm_v128_load(p->a + c), wasm_v128_load(p->a + c + 2),
                                               wasm_v128_load(p->b + c), wasm_v128_load(p->b + c + 2)));
    }
    for (; c < cols; c++) {
      double a = p->a[p->shared ? 0 : c], b = p->b[p->shared ? 0 : c];
      double t = (double)x[c] * a;
      t = t + b;
      out[c] = (f32)t;
    }
  }
}

// Op codes (OP_*), the control words at the end of the params block (CTRL_*, written by runtime.ts,
// claimed atomically here) and the counter's call tag (CALL_SHIFT, CALL_MASK) come from kernels-ops.h.

static i32 chunk_count(const i32 *params, i32 threads) {
  switch (params[0]) {
    case OP_GEMM: return gemm_chunks((const GemmParams *)params, threads);
    case OP_IM2COL: {
      const ConvParams *c = (const ConvParams *)params;
      return (c->batch * c->out_h * c->out_w + IM2COL_ROWS - 1) / IM2COL_ROWS;
    }
    case OP_COL2IM: return ((const ConvParams *)params)->batch;
    case OP_MAX_POOL_GRAD:
    case OP_MAX_POOL_GRAD_ARG: return ((const PoolParams *)params)->batch;
    case OP_COLUMN_SUM: return 1;
    case OP_ADAM:
    case OP_GATHER_ROWS:
    case OP_SOFTMAX_XENT:
    case OP_RELU_MASK:
    case OP_SQUARE_GRAD:
    case OP_PENALTY:
    case OP_SPARSIFY: return 1;
    case OP_SPMM: return (((const SpmmParams *)params)->rows + SPMM_ROWS - 1) / SPMM_ROWS;
    case OP_MAX_POOL: return ((const PoolParams *)params)->batch;
    case OP_BIAS_ACT: return (((const BiasActParams *)params)->rows + BIAS_ACT_ROWS - 1) / BIAS_ACT_ROWS;
    case OP_BATCH_NORM: return (((const BatchNormParams *)params)->rows + BATCH_NORM_ROWS - 1) / BATCH_NORM_ROWS;
    case OP_BATCH_NORM_GRAD:
    case OP_BATCH_NORM_TRAIN_GRAD:
    case OP_BATCH_MOMENTS: return 1;
    case OP_VEC_MAT: return 1;
    case OP_BYTES_AFFINE: return (((const BytesAffineParams *)params)->rows + BYTES_AFFINE_ROWS - 1) / BYTES_AFFINE_ROWS;
    case OP_DCONV: return ((const DconvParams *)params)->batch;
    case OP_DCONV_FILTER: {
      const DconvFilterParams *f = (const DconvFilterParams *)params;
      return (f->batch + f->images - 1) / f->images;
    }
    case OP_DCONV_PACK:
    case OP_DCONV_SUM: return 1;
    case OP_WINO_FILTER:
    case OP_WINO4_FILTER:
    case OP_WINO_GRAD_SUM:
    case OP_WINO4_GRAD_SUM: return 1;
    case OP_WINO_GRAD:
    case OP_WINO4_GRAD: {
      const WinoGradParams *w = (const WinoGradParams *)params;
      return (w->batch + w->images - 1) / w->images;
    }
    case OP_WINO_DX:
    case OP_WINO4_DX: {  // chunks of whole images, `tiles` / (tiles per image) of them
      const WinoParams *w = (const WinoParams *)params;
      i32 m = params[0] == OP_WINO4_DX ? 4 : 2, per = ((w->out_h + m - 1) / m) * ((w->out_w + m - 1) / m);
      i32 images = w->tiles / per;
      return (w->batch + images - 1) / images;
    }
    case OP_WINO:
    case OP_WINO4: {  // chunks of `tiles` m x m output tiles
      const WinoParams *w = (const WinoParams *)params;
      i32 m = params[0] == OP_WINO4 ? 4 : 2;
      return (w->batch * ((w->out_h + m - 1) / m) * ((w->out_w + m - 1) / m) + w->tiles - 1) / w->tiles;
    }
  }
  return 0;
}

static void run_chunk(const i32 *params, i32 idx, i32 tid, i32 threads, i32 call) {
  switch (params[0]) {
    case OP_GEMM: gemm_chunk((const GemmParams *)params, idx, tid, threads, call); break;
    case OP_IM2COL: im2col((const ConvParams *)params, idx); break;
    case OP_COL2IM: col2im((const ConvParams *)params, idx); break;
    case OP_MAX_POOL_GRAD: max_pool_grad((const PoolParams *)params, idx); break;
    case OP_MAX_POOL_GRAD_ARG: max_pool_grad_arg((const PoolParams *)params, idx); break;
    case OP_COLUMN_SUM: column_sum((const SumParams *)params); break;
    case OP_ADAM: adam((const AdamParams *)params); break;
    case OP_GATHER_ROWS: gather_rows((const GatherParams *)params); break;
    case OP_SOFTMAX_XENT: softmax_xent((const XentParams *)params); break;
    case OP_RELU_MASK: relu_mask((const ReluMaskParams *)params); break;
    case OP_SQUARE_GRAD: square_grad((const ReluMaskParams *)params); break;
    case OP_PENALTY: penalty((const PenaltyParams *)params); break;
    case OP_SPARSIFY: sparsify((const SparsifyParams *)params); break;
    case OP_SPMM: spmm((const SpmmParams *)params, idx); break;
    case OP_MAX_POOL: max_pool_tiled((const PoolParams *)params, idx); break;
    case OP_BIAS_ACT: bias_act((const BiasActParams *)params, idx); break;
    case OP_BATCH_NORM: batch_norm((const BatchNormParams *)params, idx); break;
    case OP_BATCH_NORM_GRAD: batch_norm_grad((const BatchNormGradParams *)params, 1); break;
    case OP_BATCH_NORM_TRAIN_GRAD: batch_norm_train_grad((const BatchNormGradParams *)params); break;
    case OP_BATCH_MOMENTS: batch_moments((const MomentsParams *)params); break;
    case OP_VEC_MAT: vec_mat((const VecMatParams *)params); break;
    case OP_BYTES_AFFINE: bytes_affine((const BytesAffineParams *)params, idx); break;
    case OP_DCONV: dconv_image((const DconvParams *)params, idx, tid); break;
    case OP_DCONV_FILTER: dconv_filter_chunk((const DconvFilterParams *)params, idx, tid); break;
    case OP_DCONV_PACK: dconv_pack((const DconvPackParams *)params); break;
    case OP_DCONV_SUM: dconv_sum((const DconvSumParams *)params); break;
    case OP_WINO_FILTER: wino_filter((const WinoFilterParams *)params); break;
    case OP_WINO: wino_chunk((const WinoParams *)params, idx, tid); break;
    case OP_WINO_GRAD: wino_filter_grad_chunk((const WinoGradParams *)params, idx, tid); break;
    case OP_WINO_GRAD_SUM: wino_filter_grad_sum((const WinoGradSumParams *)params); break;
    case OP_WINO4_FILTER: wino4_filter((const WinoFilterParams *)params); break;
    case OP_WINO4: wino4_chunk((const WinoParams *)params, idx, tid); break;
    case OP_WINO4_GRAD: wino4_filter_grad_chunk((const WinoGradParams *)params, idx, tid); break;
    case OP_WINO4_GRAD_SUM: wino4_filter_grad_sum((const WinoGradSumParams *)params); break;
    case OP_WINO_DX: wino_dx_chunk((const WinoParams *)params, idx, tid); break;
    case OP_WINO4_DX: wino4_dx_chunk((const WinoParams *)params, idx, tid); break;
  }
}

#ifdef __wasm_atomics__
// The shared-memory build (kernels.wasm): several threads claim chunks.
#define LOAD(p) __atomic_load_n(p, __ATOMIC_SEQ_CST)
#define STORE(p, v) __atomic_store_n(p, v, __ATOMIC_SEQ_CST)
#define CLAIM(p, expected, v) __atomic_compare_exchange_n(p, expected, v, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)
#define FINISH(p) __atomic_add_fetch(p, 1, __ATOMIC_SEQ_CST)
#define NOTIFY(p) __builtin_wasm_memory_atomic_notify(p, 1)
#else
// The single-thread build (kernels-st.wasm) runs on tfjs-backend-wasm's own, unshared heap.
#define LOAD(p) (*(p))
#define STORE(p, v) (*(p) = (v))
#define CLAIM(p, expected, v) (*(p) = (v), 1)
#define FINISH(p) (++*(p))
#define NOTIFY(p) ((void)0)
#endif

/**
 * A parallel call's entry point, on the calling thread (tid 0) and on every worker it woke: claim
 * chunks of the open call until none is left. The counter is open (≥ 0: the call's tag | the next
 * chunk) only while runtime.ts waits for the call, and closed (< 0) before it writes the next call's
 * parameters. So a worker reads the parameters only after it saw the counter open, and its claim (a
 * compare-exchange of the value it saw) succeeds only if the counter did not move since: a worker that
 * woke late, for a call already finished, may read a later call's half-written parameters, but then
 * its claim fails and it runs nothing. The call number comes from the params block for the same
 * reason (the counter holds only its low bits), and only the calling thread publishes the chunk count
 * the caller waits for.
 */
__attribute__((export_name("run"))) void run(i32 *params, i32 tid) {
  i32 index_mask = (1 << CALL_SHIFT) - 1, published = tid != 0;
  for (;;) {
    i32 v = LOAD(&params[CTRL_COUNTER]);
    if (v < 0) return;
    i32 call = LOAD(&params[CTRL_CALL]), threads = params[CTRL_THREADS], n = chunk_count(params, threads);
    if (!published) {
      STORE(&params[CTRL_CHUNKS], n);
      published = 1;
    }
    if ((v & index_mask) >= n) return;
    if (!CLAIM(&params[CTRL_COUNTER], &v, v + 1)) continue;
    run_chunk(params, v & index_mask, tid, threads, call);
    if (FINISH(&params[CTRL_DONE]) == n) NOTIFY(&params[CTRL_DONE]);
  }
}

/** A call on the calling thread alone: its chunks in order, the same ones a parallel call splits into.
 *  The counter stays closed, so no worker can take part. */
__attribute__((export_name("run_here"))) void run_here(i32 *params, i32 call) {
  i32 threads = params[CTRL_THREADS], n = chunk_count(params, threads);
  for (i32 i = 0; i < n; i++) run_chunk(params, i, 0, threads, call);
}
