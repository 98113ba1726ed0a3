// Errors around the `?` batch dimension, each at its place.
// RUN: bism-opt %s --split-input-file --verify-diagnostics --bism-specialize-batch
// RUN: not bism-opt %s --split-input-file --bism-autodiff 2>&1 | FileCheck %s --check-prefix=AD
// RUN: not bism-opt %s --split-input-file --bism-lower-to-linalg 2>&1 | FileCheck %s --check-prefix=LINALG
// RUN: not bism-opt %s --split-input-file --bism-resolve-onnx 2>&1 | FileCheck %s --check-prefix=ONNX

// AD: '?' (batch) dimension in 'tensor<?x2xf32>': --bism-autodiff needs static shapes; run --bism-specialize-batch first
// LINALG: '?' (batch) dimension in 'tensor<?x2xf32>': --bism-lower-to-linalg needs static shapes; run --bism-specialize-batch first
// ONNX: '?' (batch) dimension in the declaration of @energy: set it first (--bism-specialize-batch, which --bism-build-train-step and bism-run run before importing)

// expected-error @+1 {{'?' (batch) dimension, but no bism.model spec states a batch_size to set it to}}
func.func @f(%x: tensor<?x2xf32>) -> tensor<?x2xf32> {
  return %x : tensor<?x2xf32>
}

// -----

func.func private @energy(tensor<?x2xf32>, tensor<?x3xf32>) -> tensor<?xf32>
    attributes {bism.onnx_file = "missing.onnx"}
func.func private @logits(%v: tensor<?x2xf32>, %a: tensor<2x3xf32>) -> tensor<?x3xf32> {
  %l = bism.matmul %v, %a : tensor<?x2xf32>, tensor<2x3xf32> -> tensor<?x3xf32>
  return %l : tensor<?x3xf32>
}
// expected-error @+1 {{spec field 'batch_size' must be an integer >= 1, got 0 : i64}}
bism.model @m energy @energy [] posterior "bernoulli" @logits [] spec {batch_size = 0} {
}

// -----

func.func private @e1(%v: tensor<?x2xf32>) -> tensor<?x2xf32> {
  return %v : tensor<?x2xf32>
}
bism.model @a energy @e1 [] posterior "bernoulli" @e1 [] spec {batch_size = 4} {
}
// expected-error @+1 {{spec field 'batch_size' (8) differs from @a's (4); models in one module share the batch dimension}}
bism.model @b energy @e1 [] posterior "bernoulli" @e1 [] spec {batch_size = 8} {
}
