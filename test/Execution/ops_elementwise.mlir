// End to end (bism -> linalg -> LLVM -> JIT): every elementwise op.
// Expected values: Python's math module, printed as bism-run does (%.6g for
// f32, %.10g for f64).
//
// RUN: bism-run %s --entry unary --input "6xf32=-2 -0.5 0 0.5 1 3" | FileCheck %s --check-prefix=UNARY
// UNARY:      6xf32=2 0.5 -0 -0.5 -1 -3
// UNARY-NEXT: 6xf32=0.135335 0.606531 1 1.64872 2.71828 20.0855
// UNARY-NEXT: 6xf32=-0.964028 -0.462117 0 0.462117 0.761594 0.995055
// UNARY-NEXT: 6xf32=0.119203 0.377541 0.5 0.622459 0.731059 0.952574
// UNARY-NEXT: 6xf32=0.126928 0.474077 0.693147 0.974077 1.31326 3.04859
// UNARY-NEXT: 6xf32=0 0 0 0.5 1 3
// UNARY-NEXT: 6xf32=-0.432332 -0.196735 0 0.5 1 3
// UNARY-NEXT: 6xf32=-0.2 -0.05 0 0.5 1 3
// UNARY-NEXT: 6xf32=2 0.5 0 0.5 1 3
// UNARY-NEXT: 6xf32=4 0.25 0 0.25 1 9
//
// Softplus stays finite far from 0 (no exp overflow): softplus(100) = 100, softplus(-50) = exp(-50).
// RUN: bism-run %s --entry unary --input "6xf32=-50 100 -30 30 88 89" | FileCheck %s --check-prefix=STABLE
// STABLE: 6xf32=
// STABLE-NEXT: 6xf32=
// STABLE-NEXT: 6xf32=
// STABLE-NEXT: 6xf32=
// STABLE-NEXT: 6xf32=1.92875e-22 100 9.35762e-14 30 88 89
//
// RUN: bism-run %s --entry positive --input "4xf64=0.25 1 4 9" | FileCheck %s --check-prefix=POSITIVE
// POSITIVE:      4xf64=-1.386294361 0 1.386294361 2.197224577
// POSITIVE-NEXT: 4xf64=0.2231435513 0.6931471806 1.609437912 2.302585093
// POSITIVE-NEXT: 4xf64=0.5 1 2 3
// POSITIVE-NEXT: 4xf64=4 1 0.25 0.1111111111
//
// RUN: bism-run %s --entry binary --input "2x2xf64=1 2 3 4" --input "2x2xf64=0.5 2 -1 3" | FileCheck %s --check-prefix=BINARY
// BINARY:      2x2xf64=[1.5 4][2 7]
// BINARY-NEXT: 2x2xf64=[0.5 0][4 1]
// BINARY-NEXT: 2x2xf64=[0.5 4][-3 12]
// BINARY-NEXT: 2x2xf64=[2 1][-3 1.333333333]
// BINARY-NEXT: 2x2xf64=[1 4][0.3333333333 64]
// BINARY-NEXT: 2x2xf64=[1 2][3 4]
// BINARY-NEXT: 2x2xf64=[0.5 2][-1 3]
//
// RUN: bism-run %s --entry compare --input "5xf32=1 2 3 4 5" --input "5xf32=5 2 1 4 6" | FileCheck %s --check-prefix=COMPARE
// COMPARE:      5xi1=0 1 0 1 0
// COMPARE-NEXT: 5xi1=1 0 1 0 1
// COMPARE-NEXT: 5xi1=1 0 0 0 1
// COMPARE-NEXT: 5xi1=1 1 0 1 1
// COMPARE-NEXT: 5xi1=0 0 1 0 0
// COMPARE-NEXT: 5xi1=0 1 1 1 0
// COMPARE-NEXT: 5xf32=1 2 1 4 5
// COMPARE-NEXT: 5xf64=1 2 1 4 5

func.func @unary(%x: tensor<6xf32>) -> (tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>) {
  %0 = bism.neg %x : tensor<6xf32>
  %1 = bism.exp %x : tensor<6xf32>
  %2 = bism.tanh %x : tensor<6xf32>
  %3 = bism.sigmoid %x : tensor<6xf32>
  %4 = bism.softplus %x : tensor<6xf32>
  %5 = bism.relu %x : tensor<6xf32>
  %6 = bism.elu %x {alpha = 0.5} : tensor<6xf32>
  %7 = bism.leaky_relu %x {alpha = 0.1} : tensor<6xf32>
  %8 = bism.abs %x : tensor<6xf32>
  %9 = bism.square %x : tensor<6xf32>
  return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9 : tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>
}
func.func @positive(%x: tensor<4xf64>) -> (tensor<4xf64>, tensor<4xf64>, tensor<4xf64>, tensor<4xf64>) {
  %0 = bism.log %x : tensor<4xf64>
  %1 = bism.log1p %x : tensor<4xf64>
  %2 = bism.sqrt %x : tensor<4xf64>
  %3 = bism.reciprocal %x : tensor<4xf64>
  return %0, %1, %2, %3 : tensor<4xf64>, tensor<4xf64>, tensor<4xf64>, tensor<4xf64>
}
func.func @binary(%a: tensor<2x2xf64>, %b: tensor<2x2xf64>) -> (tensor<2x2xf64>, tensor<2x2xf64>, tensor<2x2xf64>, tensor<2x2xf64>, tensor<2x2xf64>, tensor<2x2xf64>, tensor<2x2xf64>) {
  %0 = bism.add %a, %b : tensor<2x2xf64>
  %1 = bism.sub %a, %b : tensor<2x2xf64>
  %2 = bism.mul %a, %b : tensor<2x2xf64>
  %3 = bism.div %a, %b : tensor<2x2xf64>
  %4 = bism.pow %a, %b : tensor<2x2xf64>
  %5 = bism.maximum %a, %b : tensor<2x2xf64>
  %6 = bism.minimum %a, %b : tensor<2x2xf64>
  return %0, %1, %2, %3, %4, %5, %6 : tensor<2x2xf64>, tensor<2x2xf64>, tensor<2x2xf64>, tensor<2x2xf64>, tensor<2x2xf64>, tensor<2x2xf64>, tensor<2x2xf64>
}
func.func @compare(%a: tensor<5xf32>, %b: tensor<5xf32>) -> (tensor<5xi1>, tensor<5xi1>, tensor<5xi1>, tensor<5xi1>, tensor<5xi1>, tensor<5xi1>, tensor<5xf32>, tensor<5xf64>) {
  %0 = bism.compare eq, %a, %b : tensor<5xf32>
  %1 = bism.compare ne, %a, %b : tensor<5xf32>
  %2 = bism.compare lt, %a, %b : tensor<5xf32>
  %3 = bism.compare le, %a, %b : tensor<5xf32>
  %4 = bism.compare gt, %a, %b : tensor<5xf32>
  %5 = bism.compare ge, %a, %b : tensor<5xf32>
  %6 = bism.select %2, %a, %b : tensor<5xf32>
  %7 = bism.convert %6 : tensor<5xf32> to tensor<5xf64>
  return %0, %1, %2, %3, %4, %5, %6, %7 : tensor<5xi1>, tensor<5xi1>, tensor<5xi1>, tensor<5xi1>, tensor<5xi1>, tensor<5xi1>, tensor<5xf32>, tensor<5xf64>
}
