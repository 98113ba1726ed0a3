// The third-order example: dJ/dW through three unrolled inner gradient steps.
// The gradient agrees with central differences of J computed by this same
// entry point (step 1e-6): 0.43897 and 0.33200 for W[0,0] and W[2,0].
// RUN: bism-run %S/../../examples/autodiff/unrolled_third_order.mlir --entry grad_j --input "4x3xf64=0.1 -0.2 0.3 0.4 -0.5 0.6 0.7 -0.8 0.9 1.0 -1.1 1.2" --input "4x2xf64=0.5" --input "3x2xf64=0.1 0.2 -0.3 0.4 0.5 -0.6" | FileCheck %s
// CHECK: f64=0.07811966534
// CHECK-NEXT: 3x2xf64=[0.4389681883 0.2009463539][-0.1728604424 -0.01717424685][0.3319985511 0.09522422631]
