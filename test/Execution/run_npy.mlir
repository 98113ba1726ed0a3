// --output-npy writes each result as DIR/result<i>.npy; @file.npy reads an
// input back.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: bism-run %s --entry twice --input "2x2xf32=1 2 3 4" --input "3xi64=5 6 7" --output-npy %t/out | FileCheck %s --check-prefix=FIRST
// FIRST:      2x2xf32=[2 4][6 8]
// FIRST-NEXT: 3xi64=10 12 14
// RUN: ls %t/out | FileCheck %s --check-prefix=FILES
// FILES: result0.npy
// FILES-NEXT: result1.npy
// FILES-NOT: tmp
// RUN: bism-run %s --entry twice --input @%t/out/result0.npy --input @%t/out/result1.npy --print-results=false --output-npy %t/again | count 0
// RUN: bism-run %s --entry twice --input @%t/again/result0.npy --input @%t/again/result1.npy | FileCheck %s --check-prefix=THIRD
// THIRD:      2x2xf32=[8 16][24 32]
// THIRD-NEXT: 3xi64=40 48 56

#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @twice(%a: tensor<2x2xf32>, %b: tensor<3xi64>)
    -> (tensor<2x2xf32>, tensor<3xi64>) {
  %init = tensor.empty() : tensor<2x2xf32>
  %r = linalg.generic {indexing_maps = [#map, #map],
                       iterator_types = ["parallel", "parallel"]}
      ins(%a : tensor<2x2xf32>) outs(%init : tensor<2x2xf32>) {
  ^bb0(%x: f32, %o: f32):
    %s = arith.addf %x, %x : f32
    linalg.yield %s : f32
  } -> tensor<2x2xf32>
  %init2 = tensor.empty() : tensor<3xi64>
  %q = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>,
                                        affine_map<(d0) -> (d0)>],
                       iterator_types = ["parallel"]}
      ins(%b : tensor<3xi64>) outs(%init2 : tensor<3xi64>) {
  ^bb0(%x: i64, %o: i64):
    %s = arith.addi %x, %x : i64
    linalg.yield %s : i64
  } -> tensor<3xi64>
  return %r, %q : tensor<2x2xf32>, tensor<3xi64>
}
