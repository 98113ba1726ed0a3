// Binary models: a truncated file and a missing external-data file are
// clear errors (exit code 1); external data next to the model imports.
// RUN: not bism-translate --import-onnx %S/Inputs/truncated.onnx 2>&1 | FileCheck %s --check-prefix=TRUNCATED
// RUN: not bism-translate --import-onnx %S/Inputs/missing_external_data.onnx --onnx-dim 2 2>&1 | FileCheck %s --check-prefix=EXTERNAL
// RUN: not bism-translate --import-onnx %S/Inputs/no_such_model.onnx 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: bism-translate --import-onnx %S/Inputs/external_data.onnx --onnx-dim batch=2 --mlir-elide-elementsattrs-if-larger=20 | FileCheck %s --check-prefix=DATA

// TRUNCATED: error: '{{.*}}truncated.onnx' is not a valid ONNX model (the protobuf cannot be parsed: the file is empty, truncated or corrupt)

// EXTERNAL: error: initializer: external-data file '{{.*}}Inputs/missing_weights.bin' of tensor 'fc1.weight' cannot be read: No such file or directory

// MISSING: no_such_model.onnx': No such file or directory

// DATA: func.func @torch_jit(%arg0: tensor<2x4xf32> {bism.onnx_name = "x"}, %arg1: tensor<16x4xf32> {bism.init = dense_resource<__elided__> : tensor<16x4xf32>, bism.param_name = "fc1.weight"}
