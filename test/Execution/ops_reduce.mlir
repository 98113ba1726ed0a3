// End to end: reductions over several axes, with and without keep_dims.
// Expected values: Python sums / max / logsumexp of 1..24.
//
// RUN: bism-run %s --entry reductions --input "2x3x4xf64=1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24" | FileCheck %s --check-prefix=REDUCE
// REDUCE:      2x4xf64=[15 18 21 24][51 54 57 60]
// REDUCE-NEXT: 1x3x1xf64={{\[\[}}8.5][12.5][16.5]]
// REDUCE-NEXT: 2x3xf64=[4 8 12][16 20 24]
// REDUCE-NEXT: 2x1x4xf64={{\[\[}}9.018479303 10.0184793 11.0184793 12.0184793]]{{\[\[}}21.0184793 22.0184793 23.0184793 24.0184793]]
// REDUCE-NEXT: f64=24.45867515
//
// logsumexp is stable for large magnitudes and gives -inf (not NaN) for a
// row of -inf.
// RUN: bism-run %s --entry logsumexp_extremes --input "3x2xf32=1000 1000 -1000 -1001 -inf -inf" | FileCheck %s --check-prefix=EXTREMES
// EXTREMES: 3xf32=1000.69 -999.687 -inf

func.func @reductions(%x: tensor<2x3x4xf64>) -> (tensor<2x4xf64>, tensor<1x3x1xf64>, tensor<2x3xf64>, tensor<2x1x4xf64>, tensor<f64>) {
  %0 = bism.reduce_sum %x axes [1] : tensor<2x3x4xf64> -> tensor<2x4xf64>
  %1 = bism.reduce_mean %x axes [2, 0] keep_dims : tensor<2x3x4xf64> -> tensor<1x3x1xf64>
  %2 = bism.reduce_max %x axes [2] : tensor<2x3x4xf64> -> tensor<2x3xf64>
  %3 = bism.reduce_logsumexp %x axes [1] keep_dims : tensor<2x3x4xf64> -> tensor<2x1x4xf64>
  %4 = bism.reduce_logsumexp %x axes [0, 1, 2] : tensor<2x3x4xf64> -> tensor<f64>
  return %0, %1, %2, %3, %4 : tensor<2x4xf64>, tensor<1x3x1xf64>, tensor<2x3xf64>, tensor<2x1x4xf64>, tensor<f64>
}
func.func @logsumexp_extremes(%x: tensor<3x2xf32>) -> tensor<3xf32> {
  %0 = bism.reduce_logsumexp %x axes [1] : tensor<3x2xf32> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}
