#!/bin/sh
# Rebuilds kernels.wasm from kernels.c and micro-kernel.S. Only maintainers run this: the built .wasm
# is committed and shipped, so users never need a compiler. Needs Debian's clang + lld (clang 14 tested:
# apt-get install -y clang lld).
#   -msimd128: 128-bit SIMD (Node >= 16.4).  -matomics + --shared-memory: kernels.wasm runs on one shared
#   memory from several worker threads.  --import-memory: the memory comes from native.ts (its own, or
#   tfjs's heap for kernels-st.wasm). No libc and no data segments: the module never writes memory it
#   was not given (stacks and scratch are allocated by native.ts).
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# build <output> <extra clang flags> <extra wasm-ld flags>
build() {
  clang --target=wasm32 -msimd128 -mbulk-memory -mmutable-globals $2 -O3 -c kernels.c -o "$tmp/kernels.o"
  clang --target=wasm32 -msimd128 $2 -c micro-kernel.S -o "$tmp/micro-kernel.o"
  wasm-ld --no-entry --import-memory --export=__stack_pointer --export=__heap_base --strip-all $3 \
    -o "$1" "$tmp/kernels.o" "$tmp/micro-kernel.o"
  echo "built $(pwd)/$1 ($(wc -c < "$1") bytes)"
}
# Threads: one shared memory (max 2 GiB) that native.ts creates and hands to every worker.
build kernels.wasm "-matomics" "--shared-memory --max-memory=2147483648"
# One thread: imports tfjs-backend-wasm's own (unshared, growable to 4 GiB) memory.
build kernels-st.wasm "" "--max-memory=4294967296"
