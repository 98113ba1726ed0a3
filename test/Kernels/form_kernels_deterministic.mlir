// Kernel formation is a function of the module alone: three runs on the
// Fashion-MNIST step (where the order of fusing along shared values once
// followed pointer values, so that runs differed) print the same kernels.
// RUN: bism-opt %S/../../examples/mlp/fashion_mnist.mlir --bism-build-train-step --bism-to-kernels > %t.1
// RUN: bism-opt %S/../../examples/mlp/fashion_mnist.mlir --bism-build-train-step --bism-to-kernels > %t.2
// RUN: bism-opt %S/../../examples/mlp/fashion_mnist.mlir --bism-build-train-step --bism-to-kernels > %t.3
// RUN: cmp %t.1 %t.2
// RUN: cmp %t.1 %t.3
// RUN: FileCheck %s --input-file=%t.1
// CHECK: bism.kernel = "train_step_with_noise.k0"
