# The inner loop of kernels.c's 4x8 sgemm micro-kernel, in WebAssembly assembly (assembled by build.sh).
# From C, clang 14 adds each constant offset to the pointer before a load, and V8 then spends one more
# instruction per load; here every load uses a constant offset, which V8 folds into the address
# (measured +5-10% GFLOP/s on the training shapes). Unrolling k by two measured slower.
#   mtl_mk4x8(kc, a, b, acc): for k < kc: acc[2r] += a[4k+r] * b[8k..8k+3], acc[2r+1] += a[4k+r] * b[8k+4..8k+7]
#   locals: 4-11 the eight accumulators, 12-13 the two B vectors, 14 the broadcast A value, 15 zero.
  .text
  .globl mtl_mk4x8
  .type mtl_mk4x8,@function
mtl_mk4x8:
  .functype mtl_mk4x8 (i32, i32, i32, i32) -> ()
  .local v128, v128, v128, v128, v128, v128, v128, v128, v128, v128, v128, v128
  f32.const 0x0p0
  f32x4.splat
  local.set 15
  local.get 15
  local.set 4
  local.get 15
  local.set 5
  local.get 15
  local.set 6
  local.get 15
  local.set 7
  local.get 15
  local.set 8
  local.get 15
  local.set 9
  local.get 15
  local.set 10
  local.get 15
  local.set 11
  block
  local.get 0
  i32.eqz
  br_if 0
  loop
    local.get 2                 # b[8k .. 8k+7]
    v128.load 0:p2align=2
    local.set 12
    local.get 2
    v128.load 16:p2align=2
    local.set 13
    local.get 1                 # row 0: broadcast a[k*4 + 0]
    v128.load32_splat 0:p2align=2
    local.tee 14
    local.get 12
    f32x4.mul
    local.get 4
    f32x4.add
    local.set 4
    local.get 14
    local.get 13
    f32x4.mul
    local.get 5
    f32x4.add
    local.set 5
    local.get 1                 # row 1: broadcast a[k*4 + 1]
    v128.load32_splat 4:p2align=2
    local.tee 14
    local.get 12
    f32x4.mul
    local.get 6
    f32x4.add
    local.set 6
    local.get 14
    local.get 13
    f32x4.mul
    local.get 7
    f32x4.add
    local.set 7
    local.get 1                 # row 2: broadcast a[k*4 + 2]
    v128.load32_splat 8:p2align=2
    local.tee 14
    local.get 12
    f32x4.mul
    local.get 8
    f32x4.add
    local.set 8
    local.get 14
    local.get 13
    f32x4.mul
    local.get 9
    f32x4.add
    local.set 9
    local.get 1                 # row 3: broadcast a[k*4 + 3]
    v128.load32_splat 12:p2align=2
    local.tee 14
    local.get 12
    f32x4.mul
    local.get 10
    f32x4.add
    local.set 10
    local.get 14
    local.get 13
    f32x4.mul
    local.get 11
    f32x4.add
    local.set 11
    local.get 1                 # a += 4, b += 8, --kc
    i32.const 16
    i32.add
    local.set 1
    local.get 2
    i32.const 32
    i32.add
    local.set 2
    local.get 0
    i32.const -1
    i32.add
    local.tee 0
    br_if 0
  end_loop
  end_block
  local.get 3
  local.get 4
  v128.store 0:p2align=2
  local.get 3
  local.get 5
  v128.store 16:p2align=2
  local.get 3
  local.get 6
  v128.store 32:p2align=2
  local.get 3
  local.get 7
  v128.store 48:p2align=2
  local.get 3
  local.get 8
  v128.store 64:p2align=2
  local.get 3
  local.get 9
  v128.store 80:p2align=2
  local.get 3
  local.get 10
  v128.store 96:p2align=2
  local.get 3
  local.get 11
  v128.store 112:p2align=2
  end_function
