// End to end: random draws and key_split against the reference
// runtime/include/bism/runtime/Philox.h (values printed by a C++ program using
// that header with key (7, 42); the lowering emits the same arithmetic, so
// the draws are bit-identical, shown here to print precision).
//
// RUN: bism-run %s --entry draws --input "2xi32=7,42" | FileCheck %s --check-prefix=DRAWS
// DRAWS:      2x3xf32=[0.196438 0.263716 0.603894][0.778133 0.423846 0.719307]
// DRAWS-NEXT: 2x3xf64=[0.1964379045 0.2637163435 0.6038937489][0.7781326481 0.4238458212 0.719307239]
// DRAWS-NEXT: 4xf32=-1.33388 1.34603 0.731203 -0.326483
// DRAWS-NEXT: 4xf64=-1.799556343 -1.265778734 -0.8718248265 -0.0304025844
// DRAWS-NEXT: 3xf32=-0.486989 -0.287343 0.684471
// DRAWS-NEXT: 3xf64=-0.4869891213 -0.2873429223 0.6844709107
// DRAWS-NEXT: 8xf32=1 -1 1 1 -1 1 -1 1
// DRAWS-NEXT: 2x2xf64=[1 -1][1 1]
//
// key_split words are exact; index 5000000000 exercises the high counter word.
// RUN: bism-run %s --entry keys --input "2xi32=7,42" | FileCheck %s --check-prefix=KEYS
// KEYS:      2xi32=-1908048977 2046928241
// KEYS-NEXT: 2xi32=370911904 -840297601
// KEYS-NEXT: 2xi32=999812511 -1458216639
// KEYS-NEXT: f64=0.546213459

func.func @draws(%key: tensor<2xi32>) -> (tensor<2x3xf32>, tensor<2x3xf64>, tensor<4xf32>, tensor<4xf64>, tensor<3xf32>, tensor<3xf64>, tensor<8xf32>, tensor<2x2xf64>) {
  %0 = bism.random_uniform %key : tensor<2x3xf32>
  %1 = bism.random_uniform %key : tensor<2x3xf64>
  %2 = bism.random_normal %key : tensor<4xf32>
  %3 = bism.random_normal %key : tensor<4xf64>
  %4 = bism.random_gumbel %key : tensor<3xf32>
  %5 = bism.random_gumbel %key : tensor<3xf64>
  %6 = bism.random_rademacher %key : tensor<8xf32>
  %7 = bism.random_rademacher %key : tensor<2x2xf64>
  return %0, %1, %2, %3, %4, %5, %6, %7 : tensor<2x3xf32>, tensor<2x3xf64>, tensor<4xf32>, tensor<4xf64>, tensor<3xf32>, tensor<3xf64>, tensor<8xf32>, tensor<2x2xf64>
}
func.func @keys(%key: tensor<2xi32>) -> (tensor<2xi32>, tensor<2xi32>, tensor<2xi32>, tensor<f64>) {
  %0 = bism.key_split %key [0]
  %1 = bism.key_split %key [1]
  %2 = bism.key_split %key [5000000000]
  %3 = bism.random_uniform %2 : tensor<f64>
  return %0, %1, %2, %3 : tensor<2xi32>, tensor<2xi32>, tensor<2xi32>, tensor<f64>
}
