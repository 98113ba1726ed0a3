// bism-run compiles the module for the CPU, calls --entry with the --input
// values and prints each result on one line, IREE style.
// (Written with linalg/arith ops until bism -> linalg lowering lands.)
//
// RUN: bism-run %s --entry add --input "2x3xf32=1 2 3 4 5 6" --input "2x3xf32=0.5" | FileCheck %s --check-prefix=ADD
// ADD: 2x3xf32=[1.5 2.5 3.5][4.5 5.5 6.5]
// ADD-NOT: {{.}}
//
// --help lists the subcommands and bism-run's own options, not libLLVM's.
// RUN: bism-run --help | FileCheck %s --check-prefix=HELP
// HELP: USAGE: bism-run [subcommand] [options]
// HELP: train  - train a model file
// HELP-NOT: aarch64
// HELP: --version
//
// The `run` subcommand is the default; `-` reads the module from stdin.
// Brackets in inputs are ignored, so printed results can be passed back.
// RUN: cat %s | bism-run run - --entry add --input "2x3xf32=[1 2 3][4 5 6]" --input "2x3xf32=1,1,1,1,1,1" | FileCheck %s --check-prefix=STDIN
// STDIN: 2x3xf32=[2 3 4][5 6 7]
//
// Two results; rank 0 prints without a shape; f64 uses %.10g.
// RUN: bism-run %s --entry scale --input "3xf64=1,2,3" --input "f64=0.1" | FileCheck %s --check-prefix=SCALE
// SCALE:      3xf64=0.1 0.2 0.3
// SCALE-NEXT: f64=0.1
//
// f32 uses %.6g.
// RUN: bism-run %s --entry add --input "2x3xf32=0.1" --input "2x3xf32=1e-7 1e10 -3 0 2 3" | FileCheck %s --check-prefix=PREC
// PREC: 2x3xf32=[0.1 1e+10 -2.9][0.1 2.1 3.1]
//
// i32 in, i1 (as 0/1) and i64 out.
// RUN: bism-run %s --entry less --input "4xi32=1 5 3 -2" --input "4xi32=2" | FileCheck %s --check-prefix=LESS
// LESS:      4xi1=1 0 0 1
// LESS-NEXT: 4xi64=-1 3 1 -4
//
// Rank 3 nests brackets.
// RUN: bism-run %s --entry neg3 --input "2x2x2xf32=1 2 3 4 5 6 7 8" | FileCheck %s --check-prefix=RANK3
// RANK3: 2x2x2xf32={{\[\[}}-1 -2][-3 -4]{{\]\[\[}}-5 -6][-7 -8]]
//
// Matmul, with and without BLAS.
// RUN: bism-run %s --entry matmul --input "2x3xf32=1 2 3 4 5 6" --input "3x2xf32=1 0 0 1 1 1" --blas-min-flops 0 | FileCheck %s --check-prefix=MM
// RUN: bism-run %s --entry matmul --input "2x3xf32=1 2 3 4 5 6" --input "3x2xf32=1 0 0 1 1 1" --blas-min-flops -1 --opt-level 0 | FileCheck %s --check-prefix=MM
// MM: 2x2xf32=[4 5][10 11]

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

func.func @scale(%a: tensor<3xf64>, %s: tensor<f64>)
    -> (tensor<3xf64>, tensor<f64>) {
  %init = tensor.empty() : tensor<3xf64>
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>,
                                        affine_map<(d0) -> ()>,
                                        affine_map<(d0) -> (d0)>],
                       iterator_types = ["parallel"]}
      ins(%a, %s : tensor<3xf64>, tensor<f64>) outs(%init : tensor<3xf64>) {
  ^bb0(%x: f64, %y: f64, %o: f64):
    %m = arith.mulf %x, %y : f64
    linalg.yield %m : f64
  } -> tensor<3xf64>
  return %r, %s : tensor<3xf64>, tensor<f64>
}

func.func @less(%a: tensor<4xi32>, %b: tensor<4xi32>)
    -> (tensor<4xi1>, tensor<4xi64>) {
  %i1 = tensor.empty() : tensor<4xi1>
  %i64 = tensor.empty() : tensor<4xi64>
  %r:2 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>,
                                          affine_map<(d0) -> (d0)>,
                                          affine_map<(d0) -> (d0)>,
                                          affine_map<(d0) -> (d0)>],
                         iterator_types = ["parallel"]}
      ins(%a, %b : tensor<4xi32>, tensor<4xi32>)
      outs(%i1, %i64 : tensor<4xi1>, tensor<4xi64>) {
  ^bb0(%x: i32, %y: i32, %o: i1, %p: i64):
    %c = arith.cmpi slt, %x, %y : i32
    %d = arith.subi %x, %y : i32
    %e = arith.extsi %d : i32 to i64
    linalg.yield %c, %e : i1, i64
  } -> (tensor<4xi1>, tensor<4xi64>)
  return %r#0, %r#1 : tensor<4xi1>, tensor<4xi64>
}

#map3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @neg3(%a: tensor<2x2x2xf32>) -> tensor<2x2x2xf32> {
  %init = tensor.empty() : tensor<2x2x2xf32>
  %r = linalg.generic {indexing_maps = [#map3, #map3],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%a : tensor<2x2x2xf32>) outs(%init : tensor<2x2x2xf32>) {
  ^bb0(%x: f32, %o: f32):
    %n = arith.negf %x : f32
    linalg.yield %n : f32
  } -> tensor<2x2x2xf32>
  return %r : tensor<2x2x2xf32>
}

func.func @matmul(%a: tensor<2x3xf32>, %b: tensor<3x2xf32>) -> tensor<2x2xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<2x2xf32>) -> tensor<2x2xf32>
  %r = linalg.matmul ins(%a, %b : tensor<2x3xf32>, tensor<3x2xf32>)
                     outs(%init : tensor<2x2xf32>) -> tensor<2x2xf32>
  return %r : tensor<2x2xf32>
}
