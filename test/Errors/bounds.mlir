// Inputs that would exhaust memory or the stack are refused before the
// work starts, with one line naming the place and the bound (issue 16).
//
// A static tensor larger than the memory budget: checked before lowering,
// which used to abort allocating the splat ("out of memory allocating
// 800000000000 bytes" and LLVM's crash banner).
// RUN: not bism-run %s --entry huge_constant --input "2xf32=1" 2>&1 | FileCheck %s --check-prefix=SPLAT
// SPLAT: bism-run: error: {{.*}}bounds.mlir:[[@LINE+10]]:8: tensor<100000000000x2xf32> needs 800000000000 bytes, more than the memory budget of {{[0-9]+}} bytes (3/4 of physical memory; raise it with --max-memory)
// SPLAT-NOT: PLEASE submit a bug report
// RUN: not bism-run %s --entry huge_constant --input "2xf32=1" --max-memory 64K 2>&1 | FileCheck %s --check-prefix=SMALL
// SMALL: error: {{.*}}bounds.mlir:[[@LINE+7]]:8: tensor<100000000000x2xf32> needs 800000000000 bytes, more than the memory budget of 65536 bytes (set by --max-memory)
// A batch of that size is refused before compiling (the data set is read
// and checked first).
// RUN: not bism-run %S/../../examples/grbm/checkerboard.mlir --set batch_size=100000000000 --out %t.batch 2>&1 | FileCheck %s --check-prefix=BATCH
// BATCH: bism-run: error: the training data has 60000 rows, fewer than the batch size 100000000000

func.func @huge_constant(%x: tensor<2xf32>) -> tensor<2xf32> {
  %c = bism.constant dense<1.0> : tensor<100000000000x2xf32>
  return %x : tensor<2xf32>
}

// Brackets nested deeper than the parser can recurse (a stack overflow at
// 10,000-30,000 levels) are refused before parsing, by every tool.
// RUN: %python -c "print('func.func private @f(' + 'tuple<' * 10000 + 'i32' + '>' * 10000 + ')')" > %t.tuple.mlir
// RUN: not bism-opt %t.tuple.mlir 2>&1 | FileCheck %s --check-prefix=NEST
// NEST: bism-opt: error: {{.*}}.tuple.mlir:1:1557: brackets nested more than 256 levels deep (bism's limit: the parser recurses per level)
// RUN: not bism-opt < %t.tuple.mlir 2>&1 | FileCheck %s --check-prefix=NESTSTDIN
// NESTSTDIN: bism-opt: error: <stdin>:1:1557: brackets nested more than 256 levels deep
// RUN: not bism-run %t.tuple.mlir --entry f 2>&1 | FileCheck %s --check-prefix=NESTEXEC
// NESTEXEC: bism-run: error: {{.*}}.tuple.mlir:1:1557: brackets nested more than 256 levels deep
// RUN: %python -c "print('\"t.op\"() {a = dense<' + '[' * 20000 + '1' + ']' * 20000 + '> : tensor<1xi32>} : () -> ()')" > %t.dense.mlir
// RUN: not bism-opt --allow-unregistered-dialect %t.dense.mlir 2>&1 | FileCheck %s --check-prefix=NESTDENSE
// NESTDENSE: bism-opt: error: {{.*}}.dense.mlir:1:{{[0-9]+}}: brackets nested more than 256 levels deep
// RUN: %python -c "print('\"t.op\"() (' + '{\"t.op\"() (' * 20000 + '{}' + ') : () -> ()}' * 20000 + ') : () -> ()')" > %t.region.mlir
// RUN: not bism-opt --allow-unregistered-dialect %t.region.mlir 2>&1 | FileCheck %s --check-prefix=NESTREGION
// NESTREGION: bism-opt: error: {{.*}}.region.mlir:1:{{[0-9]+}}: brackets nested more than 256 levels deep
// Brackets in strings and comments do not count; 256 levels parse.
// RUN: %python -c "print('// ' + '(' * 1000); print('\"t.op\"() {s = \"' + '[' * 1000 + '\"} : () -> ()'); print('func.func private @g(' + 'tuple<' * 254 + 'i32' + '>' * 254 + ')')" > %t.ok.mlir
// RUN: bism-opt --allow-unregistered-dialect %t.ok.mlir | FileCheck %s --check-prefix=OK
// OK: func.func private @g(tuple<tuple<

// Files with no end are read up to a bound (1 GiB for a stream), not until
// memory runs out.
// RUN: not bism-opt /dev/zero 2>&1 | FileCheck %s --check-prefix=ZERO
// ZERO: bism-opt: error: cannot read input file '/dev/zero': no end after 1073741824 bytes (not a regular file)
// RUN: not bism-translate --import-onnx /dev/zero 2>&1 | FileCheck %s --check-prefix=ONNXZERO
// ONNXZERO: bism-translate: error: cannot read input file '/dev/zero': no end after 1073741824 bytes (not a regular file)
// RUN: not bism-run /dev/zero --entry f 2>&1 | FileCheck %s --check-prefix=RUNZERO
// RUNZERO: bism-run: error: cannot read input file '/dev/zero': no end after 1073741824 bytes (not a regular file)
// RUN: not bism-run train /dev/zero 2>&1 | FileCheck %s --check-prefix=TRAINZERO
// TRAINZERO: bism-run: error: cannot read model file '/dev/zero': no end after 1073741824 bytes (not a regular file)
// Standard input still works for ONNX text.
// RUN: bism-translate --import-onnx < %S/../Import/conv.onnxtext | FileCheck %s --check-prefix=STDIN
// STDIN: func.func @conv(
