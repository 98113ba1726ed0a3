// End to end: random draws and key_split against the reference
// runtime/include/bism/runtime/Philox.h (values printed by a C++ program using
// that header's wordsForDrawElement and conversions with key (7, 42); the
// lowering emits the same arithmetic, so the draws are bit-identical, shown
// here to print precision). One-word draws take the four words of a counter
// in turn: the f32 uniforms 0, 1, 2, 3 are words 0-3 of counter 0, and the
// f64 uniforms 0 and 1 are words (0, 1) and (2, 3) of the same counter.
//
// RUN: bism-run %s --entry draws --input "2xi32=7,42" | FileCheck %s --check-prefix=DRAWS
// DRAWS:      2x3xf32=[0.196438 0.617565 0.488688][0.794231 0.263716 0.904247]
// DRAWS-NEXT: 2x3xf64=[0.1964379045 0.4886879841 0.2637163435][0.3911904501 0.6038937489 0.5826863103]
// DRAWS-NEXT: 4xf32=-1.33388 0.328308 1.34603 0.229601
// DRAWS-NEXT: 4xf64=-1.799556343 -1.265778734 -0.8718248265 -0.0304025844
// DRAWS-NEXT: 3xf32=-0.486989 0.729873 0.334032
// DRAWS-NEXT: 3xf64=-0.4869891213 0.3340317297 -0.2873429223
// DRAWS-NEXT: 8xf32=1 -1 1 -1 -1 1 1 1
// DRAWS-NEXT: 2x2xf64=[1 -1][1 -1]
//
// With `offset = o`, element i is element o + i of the same stream: slices of
// the draws above, from inside a counter (f32 uniform from 1 and normal from
// 1, across a counter boundary), from a counter's start and one counter per
// element (f64 normal from 2).
// RUN: bism-run %s --entry offsets --input "2xi32=7,42" | FileCheck %s --check-prefix=OFFSETS
// OFFSETS:      4xf32=0.617565 0.488688 0.794231 0.263716
// OFFSETS-NEXT: 1x2xf32=[0.263716 0.904247]
// OFFSETS-NEXT: 2xf64=0.3911904501 0.6038937489
// OFFSETS-NEXT: 2xf32=0.328308 1.34603
// OFFSETS-NEXT: 2xf64=-0.8718248265 -0.0304025844
// OFFSETS-NEXT: 3xf32=1 1 1
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
func.func @offsets(%key: tensor<2xi32>) -> (tensor<4xf32>, tensor<1x2xf32>, tensor<2xf64>, tensor<2xf32>, tensor<2xf64>, tensor<3xf32>) {
  %0 = bism.random_uniform %key {offset = 1} : tensor<4xf32>
  %1 = bism.random_uniform %key {offset = 4} : tensor<1x2xf32>
  %2 = bism.random_uniform %key {offset = 3} : tensor<2xf64>
  %3 = bism.random_normal %key {offset = 1} : tensor<2xf32>
  %4 = bism.random_normal %key {offset = 2} : tensor<2xf64>
  %5 = bism.random_rademacher %key {offset = 5} : tensor<3xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<4xf32>, tensor<1x2xf32>, tensor<2xf64>, tensor<2xf32>, tensor<2xf64>, tensor<3xf32>
}
func.func @keys(%key: tensor<2xi32>) -> (tensor<2xi32>, tensor<2xi32>, tensor<2xi32>, tensor<f64>) {
  %0 = bism.key_split %key [0]
  %1 = bism.key_split %key [1]
  %2 = bism.key_split %key [5000000000]
  %3 = bism.random_uniform %2 : tensor<f64>
  return %0, %1, %2, %3 : tensor<2xi32>, tensor<2xi32>, tensor<2xi32>, tensor<f64>
}
