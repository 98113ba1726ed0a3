// The deep image examples (issue 14; examples/deep/make_model.py writes
// them) build their steps: the EBLVM with BiMDSM on the Fisher lower level,
// the fully visible EBM baseline with MDSM on its exact score. Their values
// against PyTorch: test/unit/ONNXImportTest.cpp (DeepImageModel).
// RUN: bism-opt %S/../../examples/deep/fashion_mnist.mlir --bism-build-train-step | FileCheck %s --check-prefix=EBLVM
// RUN: bism-opt %S/../../examples/deep/fashion_mnist_ebm.mlir --bism-build-train-step | FileCheck %s --check-prefix=EBM

// EBLVM: func.func private @energy(%arg0: tensor<100x784xf32>, %arg1: tensor<100x50xf32>, %arg2: tensor<32x1x3x3xf32>
// EBLVM: bism.conv2d
// EBLVM: func.func private @posterior(%arg0: tensor<100x784xf32>
// EBLVM: func.func @train_step_with_noise(
// EBLVM: func.func @train_step(

// EBM: func.func private @free_energy(%arg0: tensor<100x784xf32>, %arg1: tensor<32x1x3x3xf32>
// EBM: func.func @train_step_with_noise(
// EBM-NOT: posterior
