#!/bin/sh
# Rebuilds the kernels (kernels*.wasm) from kernels.c and the sgemm inner loop that micro-kernel.mjs
# writes in WebAssembly assembly (plain and FMA), and records how in kernels.stamp.json. Only
# maintainers run this: the built .wasm files are committed and shipped, so users never need a compiler.
# Needs Debian's clang + lld (clang 14.0.6 built the committed files and rebuilds them byte for byte:
# apt-get install -y clang lld), llvm-objdump of the same version, node and the repository's
# node_modules (npm ci: tsx runs the two generators).
#   -msimd128: 128-bit SIMD (Node >= 16.4).  -matomics + --shared-memory: kernels.wasm runs on one shared
#   memory from several worker threads.  --import-memory: the memory comes from runtime.ts (its own, or
#   tfjs's heap for kernels-st.wasm). No libc and no data segments: the module never writes memory it
#   was not given (stacks and scratch are allocated by runtime.ts).
#   -mrelaxed-simd -DMTL_FMA: the FMA builds (kernels-fma.wasm, kernels-st-fma.wasm) for engines with
#   WebAssembly relaxed SIMD; see relaxed() below for the opcode rewrite.
# Outputs: kernels-ops.h (generated from op-codes.ts by gen-ops-header.ts), the four .wasm files, and
# kernels.stamp.json (write-stamp.ts: hashes of the inputs and outputs, tool versions, flags), which
# test/engine/stamp.test.ts checks against the files.
set -eu
cd "$(dirname "$0")"

# need <command> <how to get it>: fail before building anything when a tool is missing.
need() {
  command -v "$1" > /dev/null 2>&1 || { echo "build.sh: $1 not found ($2)" >&2; exit 5; }
}
need clang "apt-get install -y clang lld"
need wasm-ld "apt-get install -y lld"
need node "Node.js >= 20"
clang_major=$(clang -dumpversion | cut -d. -f1)
# Debian names the disassembler after its LLVM version; an unversioned one is the fallback.
objdump=$(command -v "llvm-objdump-$clang_major" || command -v llvm-objdump || true)
[ -n "$objdump" ] || { echo "build.sh: llvm-objdump-$clang_major not found (apt-get install -y llvm-$clang_major)" >&2; exit 5; }
node --import tsx -e '' 2> /dev/null || { echo "build.sh: tsx not found (run npm ci in the repository)" >&2; exit 5; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# relaxed <object> <disassembly count>: clang 14 encodes relaxed SIMD's fused multiply-add with its
# prototype opcode (0xfd 0xaf 0x01); engines implement the standard f32x4.relaxed_madd (0xfd 0x85 0x02,
# same operands and length). Rewrite every occurrence, and fail unless their number equals the number of
# f32x4.fma instructions the disassembler lists (so no other bytes were touched).
relaxed() {
  node -e '
    const fs = require("fs");
    const [file, want] = [process.argv[1], Number(process.argv[2])];
    const b = fs.readFileSync(file);
    let n = 0;
    for (let i = 0; i + 2 < b.length; i++) if (b[i] === 0xfd && b[i + 1] === 0xaf && b[i + 2] === 0x01) { b[i + 1] = 0x85; b[i + 2] = 0x02; n++; }
    if (n !== want) { console.error(`${file}: ${n} opcode matches, ${want} f32x4.fma instructions`); process.exit(1); }
    fs.writeFileSync(file, b);
  ' "$1" "$2"
}

# build <output> <micro-kernel variant: plain|fma> <extra clang flags> <extra wasm-ld flags>
# Appends the build's flags to $tmp/builds.tsv for the stamp.
build() {
  cflags="--target=wasm32 -msimd128 -mbulk-memory -mmutable-globals $3 -O3"
  asflags="--target=wasm32 -msimd128 $3"
  ldflags="--no-entry --import-memory --export=__stack_pointer --export=__heap_base --strip-all $4"
  clang $cflags -c kernels.c -o "$tmp/kernels.o"
  node micro-kernel.mjs "$2" > "$tmp/micro-kernel.S"
  clang $asflags -c "$tmp/micro-kernel.S" -o "$tmp/micro-kernel.o"
  for o in kernels micro-kernel; do
    count=$("$objdump" -d "$tmp/$o.o" | grep -c 'f32x4.fma' || true)
    [ "$count" -gt 0 ] && relaxed "$tmp/$o.o" "$count"
  done
  wasm-ld $ldflags -o "$1" "$tmp/kernels.o" "$tmp/micro-kernel.o"
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$cflags" "$asflags" "$ldflags" >> "$tmp/builds.tsv"
  echo "built $(pwd)/$1 ($(wc -c < "$1") bytes)"
}

node --import tsx gen-ops-header.ts
fma="-mrelaxed-simd -DMTL_FMA"
# Threads: one shared memory (max 2 GiB) that runtime.ts creates and hands to every worker.
build kernels.wasm plain "-matomics" "--shared-memory --max-memory=2147483648"
build kernels-fma.wasm fma "-matomics $fma" "--shared-memory --max-memory=2147483648"
# One thread: imports tfjs-backend-wasm's own (unshared, growable to 4 GiB) memory.
build kernels-st.wasm plain "" "--max-memory=4294967296"
build kernels-st-fma.wasm fma "$fma" "--max-memory=4294967296"
node --import tsx write-stamp.ts "$tmp/builds.tsv" "$(clang --version | head -n 1)" "$(wasm-ld --version | head -n 1)"
echo "wrote $(pwd)/kernels.stamp.json"
