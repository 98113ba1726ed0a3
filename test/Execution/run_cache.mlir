// bism-run caches compiled objects in $BISM_CACHE_DIR: the first run
// compiles and writes one entry, the second loads it ("cache hit") and prints
// the same results; --no-cache and BISM_NO_CACHE=1 leave the cache alone; a
// truncated or corrupted entry is rejected with a note, rebuilt, and hits
// again. test/unit/JitCacheTest.cpp checks the entries themselves.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: env BISM_CACHE_DIR=%t/cache bism-run %s --entry f --input "4xf32=0 1 2 -3" 2>&1 | FileCheck %s --check-prefix=MISS
// RUN: ls %t/cache | count 1
// RUN: env BISM_CACHE_DIR=%t/cache bism-run %s --entry f --input "4xf32=0 1 2 -3" 2>&1 | FileCheck %s --check-prefix=HIT
// RUN: env BISM_CACHE_DIR=%t/cache bism-run %s --entry f --input "4xf32=0 1 2 -3" --no-cache 2>&1 | FileCheck %s --check-prefix=NOCACHE
// RUN: env BISM_CACHE_DIR=%t/cache BISM_NO_CACHE=1 bism-run %s --entry f --input "4xf32=0 1 2 -3" 2>&1 | FileCheck %s --check-prefix=NOCACHE
//
// Other options make another entry.
// RUN: env BISM_CACHE_DIR=%t/cache bism-run %s --entry f --input "4xf32=0 1 2 -3" --opt-level 1 2>&1 | FileCheck %s --check-prefix=MISS
// RUN: ls %t/cache | count 2
// RUN: rm %t/cache/* && env BISM_CACHE_DIR=%t/cache bism-run %s --entry f --input "4xf32=0 1 2 -3" 2>&1 | FileCheck %s --check-prefix=MISS
//
// Truncated, then corrupted (the object's ELF magic overwritten).
// RUN: truncate -s 300 %t/cache/*.bismobj
// RUN: env BISM_CACHE_DIR=%t/cache bism-run %s --entry f --input "4xf32=0 1 2 -3" 2>&1 | FileCheck %s --check-prefixes=REJECT,TRUNCATED
// RUN: env BISM_CACHE_DIR=%t/cache bism-run %s --entry f --input "4xf32=0 1 2 -3" 2>&1 | FileCheck %s --check-prefix=HIT
// RUN: sed -i 's/ELF/ELG/' %t/cache/*.bismobj
// RUN: env BISM_CACHE_DIR=%t/cache bism-run %s --entry f --input "4xf32=0 1 2 -3" 2>&1 | FileCheck %s --check-prefixes=REJECT,CORRUPT
// RUN: env BISM_CACHE_DIR=%t/cache bism-run %s --entry f --input "4xf32=0 1 2 -3" 2>&1 | FileCheck %s --check-prefix=HIT
// RUN: ls %t/cache | count 1
//
// Training: the second run of a model file loads its step from the cache.
// RUN: env BISM_CACHE_DIR=%t/train bism-run %S/../../examples/grbm/checkerboard.mlir --set K=1 --set N=1 --iters 1 --log-every 1 --eval-every 0 --no-png --out %t/run1 | FileCheck %s --check-prefix=TRAINMISS
// RUN: env BISM_CACHE_DIR=%t/train bism-run %S/../../examples/grbm/checkerboard.mlir --set K=1 --set N=1 --iters 1 --log-every 1 --eval-every 0 --no-png --out %t/run2 | FileCheck %s --check-prefix=TRAINHIT
// RUN: diff %t/run1/metrics.jsonl %t/run2/metrics.jsonl

// MISS: bism-run: compiled in {{[0-9.]+}} s (cache miss)
// MISS-NEXT: 4xf32=1 0.367879 0.0183156 0.00012341

// HIT: bism-run: compiled in {{[0-9.]+}} s (cache hit)
// HIT-NEXT: 4xf32=1 0.367879 0.0183156 0.00012341

// NOCACHE: bism-run: compiled in {{[0-9.]+}} s (no cache)
// NOCACHE-NEXT: 4xf32=1 0.367879 0.0183156 0.00012341

// TRUNCATED: bism: JIT cache: ignoring {{.*}}.bismobj: truncated or padded {{.*}}; recompiling
// CORRUPT: bism: JIT cache: ignoring {{.*}}.bismobj: checksum mismatch (corrupted); recompiling
// REJECT-NEXT: bism-run: compiled in {{[0-9.]+}} s (cache entry rejected)
// REJECT-NEXT: 4xf32=1 0.367879 0.0183156 0.00012341

// TRAINMISS: compiled in {{[0-9.]+}} s (cache miss); {{[0-9]+}} thread(s); resolved configuration:
// TRAINHIT: compiled in {{[0-9.]+}} s (cache hit); {{[0-9]+}} thread(s); resolved configuration:

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %s = bism.square %x : tensor<4xf32>
  %n = bism.neg %s : tensor<4xf32>
  %e = bism.exp %n : tensor<4xf32>
  return %e : tensor<4xf32>
}
