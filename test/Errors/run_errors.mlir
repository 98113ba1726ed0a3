// bism-run reports user errors on stderr as "bism-run: error: ..." and exits
// with status 1 (`not` checks it is non-zero and not a crash).
//
// RUN: not bism-run %t.does-not-exist --entry add 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: bism-run: error: cannot open input file '{{.*}}.does-not-exist': No such file or directory
//
// RUN: not bism-run %s --entry nope --input "2x3xf32=1" --input "2x3xf32=1" 2>&1 | FileCheck %s --check-prefix=ENTRY
// ENTRY: bism-run: error: no function named 'nope' (available: add)
//
// RUN: not bism-run %s --input "2x3xf32=1" 2>&1 | FileCheck %s --check-prefix=NOENTRY
// NOENTRY: bism-run: error: no function given: use --entry NAME
//
// Sizes that wrap around 2^64 (they used to give a short buffer and a heap
// overflow) or exceed the machine's memory (an abort) are refused before
// anything is allocated (issue 16).
// RUN: not bism-run %s --entry add --input "4611686018427387904xf32=1" 2>&1 | FileCheck %s --check-prefix=WRAP
// WRAP: bism-run: error: --input 0 ("4611686018427387904xf32=1"): 4611686018427387904xf32 is too large (more than 2^63 bytes)
// RUN: not bism-run %s --entry add --input "4294967296x4294967296x4xf32=1" 2>&1 | FileCheck %s --check-prefix=WRAP3
// WRAP3: bism-run: error: --input 0 ({{.*}}): 4294967296x4294967296x4xf32 is too large (more than 2^63 bytes)
// RUN: not bism-run %s --entry add --input "100000000000000x2xf32=1" 2>&1 | FileCheck %s --check-prefix=HUGE
// HUGE: bism-run: error: --input 0 ({{.*}}): 100000000000000x2xf32 needs 800000000000000 bytes, more than the memory budget of {{[0-9]+}} bytes (3/4 of physical memory; raise it with --max-memory)
// RUN: not bism-run %s --entry add --input "300x300xf32=1" --max-memory 256K 2>&1 | FileCheck %s --check-prefix=BUDGET
// BUDGET: bism-run: error: --input 0 ({{.*}}): 300x300xf32 needs 360000 bytes, more than the memory budget of 262144 bytes (set by --max-memory)
// A budget that fits runs the function.
// RUN: bism-run %s --entry add --input "2x3xf32=1" --input "2x3xf32=2" --max-memory 1M | FileCheck %s --check-prefix=FITS
// FITS: 2x3xf32=[3 3 3][3 3 3]
// RUN: not bism-run %s --entry add --input "2x3xf32=1" --max-memory 0 2>&1 | FileCheck %s --check-prefix=BADBUDGET
// BADBUDGET: bism-run: error: --max-memory: bad memory size '0' (expected bytes, or a number with K, M, G or T, or a percentage of physical memory such as 50%)
//
// A file with no end is read up to a bound, not until memory runs out.
// RUN: not bism-run %s --entry add --input @/dev/zero 2>&1 | FileCheck %s --check-prefix=ENDLESS
// ENDLESS: bism-run: error: --input 0 ("@/dev/zero"): cannot read '/dev/zero': no end after 1073741824 bytes (not a regular file)
//
// RUN: not bism-run %s --entry add --input "2x3xf32=1" 2>&1 | FileCheck %s --check-prefix=COUNT
// COUNT: bism-run: error: add: expected 2 inputs, got 1
//
// RUN: not bism-run %s --entry add --input "2x3xf32=1" --input "3x2xf32=1" 2>&1 | FileCheck %s --check-prefix=SHAPE
// SHAPE: bism-run: error: add: input 1 has type 3x2xf32, expected 2x3xf32
//
// RUN: not bism-run %s --entry add --input "2x3xf64=1" --input "2x3xf32=1" 2>&1 | FileCheck %s --check-prefix=TYPE
// TYPE: bism-run: error: add: input 0 has type 2x3xf64, expected 2x3xf32
//
// RUN: not bism-run %s --entry add --input "2x3xf32=1 2 3 4" --input "2x3xf32=1" 2>&1 | FileCheck %s --check-prefix=NVALUES
// NVALUES: bism-run: error: --input 0 ("2x3xf32=1 2 3 4"): expected 6 values (or one to fill) for 2x3xf32, got 4
//
// RUN: not bism-run %s --entry add --input "2x3xf32=1 2 x 4 5 6" --input "2x3xf32=1" 2>&1 | FileCheck %s --check-prefix=NOTNUM
// NOTNUM: bism-run: error: --input 0 ("2x3xf32=1 2 x 4 5 6"): 'x' is not a number
//
// RUN: not bism-run %s --entry add --input "2x3xbf16=1" 2>&1 | FileCheck %s --check-prefix=BADTYPE
// BADTYPE: bism-run: error: --input 0 ("2x3xbf16=1"): unknown element type 'bf16' (expected f32, f64, i1, i32 or i64)
//
// RUN: not bism-run %s --entry add --input "2x-3xf32=1" 2>&1 | FileCheck %s --check-prefix=BADDIM
// BADDIM: bism-run: error: --input 0 ("2x-3xf32=1"): bad dimension '-3' in '2x-3xf32'
//
// RUN: not bism-run %s --entry add --input "1 2 3" 2>&1 | FileCheck %s --check-prefix=NOEQ
// NOEQ: bism-run: error: --input 0 ("1 2 3"): expected "SHAPExTYPE=VALUES" or "@file.npy"
//
// RUN: not bism-run %s --entry add --input "3xi32=1 2 3000000000" 2>&1 | FileCheck %s --check-prefix=RANGE
// RANGE: bism-run: error: --input 0 ("3xi32=1 2 3000000000"): '3000000000' is out of range for i32
//
// RUN: not bism-run %s --entry add --input @%t.missing.npy 2>&1 | FileCheck %s --check-prefix=NPY
// NPY: bism-run: error: --input 0 ("@{{.*}}.missing.npy"): cannot open '{{.*}}.missing.npy': No such file or directory
//
// RUN: not bism-run %s --entry add --input @%s 2>&1 | FileCheck %s --check-prefix=NOTNPY
// NOTNPY: bism-run: error: --input 0 ("@{{.*}}run_errors.mlir"): '{{.*}}run_errors.mlir': not a .npy file (bad magic)
//
// --output-npy into a path that cannot be a directory.
// RUN: not bism-run %s --entry add --input "2x3xf32=1" --input "2x3xf32=1" --output-npy %s/out 2>&1 | FileCheck %s --check-prefix=OUTDIR
// OUTDIR: bism-run: error: cannot create directory '{{.*}}run_errors.mlir/out': Not a directory
//
// Nothing crashes: exit status is exactly 1.
// RUN: bism-run %s --entry nope; test $? -eq 1

#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @add(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %init = tensor.empty() : tensor<2x3xf32>
  %r = linalg.generic {indexing_maps = [#map, #map, #map],
                       iterator_types = ["parallel", "parallel"]}
      ins(%a, %b : tensor<2x3xf32>, tensor<2x3xf32>)
      outs(%init : tensor<2x3xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}
