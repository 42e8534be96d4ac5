# The FMA build's inner loop (kernels*-fma.wasm): a 6x8 tile of kernels.c's sgemm, each term one
# f32x4.relaxed_madd (acc = a·b + acc). Twelve accumulators, two B vectors and the broadcast A value
# fit V8's 15 SIMD registers because a fused multiply-add needs no temporary.
# clang 14 spells the instruction by its relaxed-SIMD prototype name, f32x4.fma (0xfd 0xaf 0x01);
# build.sh rewrites it to relaxed_madd (0xfd 0x85 0x02), operands (a, b, c) -> a·b + c, as pushed here.
#   mtl_mk6x8_fma(kc, a, b, acc): for k < kc: acc[2r] += a[6k+r] * b[8k..8k+3], acc[2r+1] += a[6k+r] * b[8k+4..8k+7]
#   locals: 4-15 the twelve accumulators, 16-17 the two B vectors, 18 the broadcast A value, 19 zero.
  .text
  .globl mtl_mk6x8_fma
  .type mtl_mk6x8_fma,@function
mtl_mk6x8_fma:
  .functype mtl_mk6x8_fma (i32, i32, i32, i32) -> ()
  .local v128, v128, v128, v128, v128, v128, v128, v128, v128, v128, v128, v128, v128, v128, v128, v128
  f32.const 0x0p0
  f32x4.splat
  local.set 19
  local.get 19
  local.set 4
  local.get 19
  local.set 5
  local.get 19
  local.set 6
  local.get 19
  local.set 7
  local.get 19
  local.set 8
  local.get 19
  local.set 9
  local.get 19
  local.set 10
  local.get 19
  local.set 11
  local.get 19
  local.set 12
  local.get 19
  local.set 13
  local.get 19
  local.set 14
  local.get 19
  local.set 15
  block
  local.get 0
  i32.eqz
  br_if 0
  loop
    local.get 2
    v128.load 0:p2align=2
    local.set 16
    local.get 2
    v128.load 16:p2align=2
    local.set 17
    local.get 1
    v128.load32_splat 0:p2align=2
    local.tee 18
    local.get 16
    local.get 4
    f32x4.fma
    local.set 4
    local.get 18
    local.get 17
    local.get 5
    f32x4.fma
    local.set 5
    local.get 1
    v128.load32_splat 4:p2align=2
    local.tee 18
    local.get 16
    local.get 6
    f32x4.fma
    local.set 6
    local.get 18
    local.get 17
    local.get 7
    f32x4.fma
    local.set 7
    local.get 1
    v128.load32_splat 8:p2align=2
    local.tee 18
    local.get 16
    local.get 8
    f32x4.fma
    local.set 8
    local.get 18
    local.get 17
    local.get 9
    f32x4.fma
    local.set 9
    local.get 1
    v128.load32_splat 12:p2align=2
    local.tee 18
    local.get 16
    local.get 10
    f32x4.fma
    local.set 10
    local.get 18
    local.get 17
    local.get 11
    f32x4.fma
    local.set 11
    local.get 1
    v128.load32_splat 16:p2align=2
    local.tee 18
    local.get 16
    local.get 12
    f32x4.fma
    local.set 12
    local.get 18
    local.get 17
    local.get 13
    f32x4.fma
    local.set 13
    local.get 1
    v128.load32_splat 20:p2align=2
    local.tee 18
    local.get 16
    local.get 14
    f32x4.fma
    local.set 14
    local.get 18
    local.get 17
    local.get 15
    f32x4.fma
    local.set 15
    local.get 1
    i32.const 24
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
  local.get 3
  local.get 12
  v128.store 128:p2align=2
  local.get 3
  local.get 13
  v128.store 144:p2align=2
  local.get 3
  local.get 14
  v128.store 160:p2align=2
  local.get 3
  local.get 15
  v128.store 176:p2align=2
  end_function
