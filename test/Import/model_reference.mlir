// Model files naming ONNX files (--bism-resolve-onnx): each declaration with
// bism.onnx_file becomes the imported function; clauses with an empty
// parameter list get one bism.param per trainable initializer (init
// "value"), clauses with a list bind it. Resolving twice changes nothing,
// and --bism-build-train-step resolves by itself.
// RUN: bism-opt %s --split-input-file --bism-resolve-onnx | FileCheck %s
// RUN: bism-opt %s --split-input-file --bism-resolve-onnx | bism-opt --split-input-file --bism-resolve-onnx | FileCheck %s
// RUN: bism-opt %s --split-input-file --bism-build-train-step | FileCheck %s --check-prefix=STEP

// An energy and a posterior from ONNX text files. The posterior's BatchNorm
// running statistics become constants; its 'b' collides with the energy's.

func.func private @energy(tensor<100x2xf32>, tensor<100x4xf32>) -> tensor<100xf32>
    attributes {bism.onnx_file = "Inputs/grbm_energy.onnxtext"}
func.func private @logits(tensor<100x2xf32>) -> tensor<100x4xf32>
    attributes {bism.onnx_file = "Inputs/mlp_posterior.onnxtext"}
bism.model @grbm energy @energy [] posterior "bernoulli" @logits []
    spec {dataset = "checkerboard"} {
}

// CHECK-LABEL: func.func private @energy(
// CHECK-SAME: %arg0: tensor<100x2xf32> {bism.onnx_name = "v"}, %arg1: tensor<100x4xf32> {bism.onnx_name = "h"},
// CHECK-SAME: %arg2: tensor<2x4xf32> {bism.param_name = "W"}, %arg3: tensor<2xf32> {bism.param_name = "b"}, %arg4: tensor<4xf32> {bism.param_name = "c"}, %arg5: tensor<2xf32> {bism.param_name = "logsigma"})
// CHECK-SAME: -> (tensor<100xf32> {bism.onnx_name = "e"})
// CHECK-SAME: attributes {bism.num_inputs = 2 : i64, bism.onnx = {ir_version = 8 : i64, opset = 17 : i64, producer = "bism-tests"}, bism.onnx_file = "Inputs/grbm_energy.onnxtext"} {
// CHECK: bism.matmul %arg0, %arg2 : tensor<100x2xf32>, tensor<2x4xf32> -> tensor<100x4xf32>

// CHECK-LABEL: func.func private @logits(
// CHECK-SAME: %arg0: tensor<100x2xf32> {bism.onnx_name = "v"},
// CHECK-SAME: %arg1: tensor<3x2xf32> {bism.param_name = "fc1_weight"}, %arg2: tensor<3xf32> {bism.param_name = "fc1_bias"}, %arg3: tensor<3xf32> {bism.param_name = "bn_scale"}, %arg4: tensor<3xf32> {bism.param_name = "bn_bias"}, %arg5: tensor<4x3xf32> {bism.param_name = "fc2_weight"}, %arg6: tensor<4xf32> {bism.param_name = "b"})
// CHECK-SAME: -> (tensor<100x4xf32> {bism.onnx_name = "logits"})
// CHECK-DAG: %[[MEAN:.*]] = bism.constant dense<[1.000000e-01, 2.000000e-01, 3.000000e-01]> : tensor<3xf32>
// CHECK-DAG: %[[VAR:.*]] = bism.constant dense<[1.000000e+00, 2.000000e+00, 4.000000e+00]> : tensor<3xf32>
// CHECK-DAG: bism.add %[[VAR]], %{{.*}} : tensor<3xf32>
// CHECK-DAG: bism.broadcast %[[MEAN]] : tensor<3xf32> to tensor<100x3xf32>

// CHECK: bism.model @grbm energy @energy [@W, @b, @c, @logsigma] posterior "bernoulli" @logits [@fc1_weight, @fc1_bias, @bn_scale, @bn_bias, @fc2_weight, @b_1]
// CHECK-NEXT: bism.param @W : tensor<2x4xf32> {bism.onnx_name = "W", group = "theta", init = "value", value = dense<{{\[\[}}3.000000e+00, -2.500000e+00, 1.000000e+00, 5.000000e-01], [-1.000000e+00, 2.000000e+00, -3.000000e+00, 1.500000e+00]]> : tensor<2x4xf32>}
// CHECK-NEXT: bism.param @b : tensor<2xf32> {bism.onnx_name = "b", group = "theta", init = "value", value = dense<[5.000000e-01, 2.500000e-01]> : tensor<2xf32>}
// CHECK-NEXT: bism.param @c : tensor<4xf32> {bism.onnx_name = "c", group = "theta", init = "value", value = dense<[0.000000e+00, 1.000000e-01, -1.000000e-01, 2.000000e-01]> : tensor<4xf32>}
// CHECK-NEXT: bism.param @logsigma : tensor<2xf32> {bism.onnx_name = "logsigma", group = "theta", init = "value", value = dense<[-1.000000e+00, -1.500000e+00]> : tensor<2xf32>}
// CHECK-NEXT: bism.param @fc1_weight : tensor<3x2xf32> {bism.onnx_name = "fc1_weight", group = "phi", init = "value", value = dense<{{\[\[}}5.000000e-01, -5.000000e-01], [1.000000e+00, 2.500000e-01], [-1.000000e+00, 7.500000e-01]]> : tensor<3x2xf32>}
// CHECK-NEXT: bism.param @fc1_bias : tensor<3xf32> {{{.*}}group = "phi", init = "value"
// CHECK-NEXT: bism.param @bn_scale : tensor<3xf32> {{{.*}}group = "phi", init = "value", value = dense<[1.000000e+00, 2.000000e+00, 5.000000e-01]> : tensor<3xf32>}
// CHECK-NEXT: bism.param @bn_bias : tensor<3xf32> {{{.*}}group = "phi", init = "value"
// CHECK-NEXT: bism.param @fc2_weight : tensor<4x3xf32> {{{.*}}group = "phi", init = "value"
// CHECK-NEXT: bism.param @b_1 : tensor<4xf32> {bism.onnx_name = "b", group = "phi", init = "value", value = dense<[0.000000e+00, 0.000000e+00, 0.000000e+00, -1.000000e+00]> : tensor<4xf32>}
// CHECK-NEXT: }

// STEP-LABEL: func.func @train_step_with_noise(
// STEP-SAME: %arg0: tensor<2x4xf32>, %arg1: tensor<2xf32>, %arg2: tensor<4xf32>, %arg3: tensor<2xf32>, %arg4: tensor<3x2xf32>, %arg5: tensor<3xf32>, %arg6: tensor<3xf32>, %arg7: tensor<3xf32>, %arg8: tensor<4x3xf32>, %arg9: tensor<4xf32>,

// -----

// A binary model exported from PyTorch (the deep EBLVM of the importer's
// tests): dots in its initializer names become underscores; the batch (3)
// comes from the declaration. The posterior is written here.

func.func private @deep(tensor<3x6xf32>, tensor<3x4xf32>) -> tensor<3xf32>
    attributes {bism.onnx_file = "../unit/data/onnx/deep_eblvm.onnx"}
func.func private @encoder(%v: tensor<3x6xf32>, %w: tensor<6x4xf32>)
    -> (tensor<3x4xf32>, tensor<3x4xf32>) {
  %mu = bism.matmul %v, %w : tensor<3x6xf32>, tensor<6x4xf32> -> tensor<3x4xf32>
  return %mu, %mu : tensor<3x4xf32>, tensor<3x4xf32>
}
bism.model @deep_model energy @deep [] posterior "gaussian" @encoder [@w]
    spec {} {
  bism.param @w : tensor<6x4xf32> {group = "phi", init = "zeros"}
}

// CHECK-LABEL: func.func private @deep(
// CHECK-SAME: %arg0: tensor<3x6xf32> {bism.onnx_name = "v"}, %arg1: tensor<3x4xf32> {bism.onnx_name = "h"}, %arg2: tensor<8x6xf32> {bism.param_name = "feature1.weight"}
// CHECK-SAME: bism.onnx_file = "../unit/data/onnx/deep_eblvm.onnx"
// CHECK: bism.model @deep_model energy @deep [@feature1_weight, @feature1_bias, @feature2_weight, @feature2_bias, @couplings_0_fc1_weight, @couplings_0_fc1_bias, @couplings_0_fc2_weight, @couplings_0_fc2_bias, @couplings_1_fc1_weight, @couplings_1_fc1_bias, @couplings_1_fc2_weight, @couplings_1_fc2_bias, @head_weight, @head_bias] posterior "gaussian" @encoder [@w]
// CHECK: bism.param @couplings_0_fc1_weight : tensor<8x4xf32> {bism.onnx_name = "couplings.0.fc1.weight", group = "theta", init = "value", value = dense<

// STEP-LABEL: func.func @train_step_with_noise(
// STEP-SAME: %arg0: tensor<8x6xf32>

// -----

// A parameter list binds the initializers in order to declared parameters,
// which keep their own initialisers and can be shared with functions
// written here (the GRBM's free energy).

func.func private @energy(tensor<100x2xf32>, tensor<100x4xf32>) -> tensor<100xf32>
    attributes {bism.onnx_file = "Inputs/grbm_energy.onnxtext"}
func.func private @free_energy(%v: tensor<100x2xf32>, %w: tensor<2x4xf32>,
                               %b: tensor<2xf32>, %c: tensor<4xf32>,
                               %logsigma: tensor<2xf32>) -> tensor<100xf32> {
  %f = bism.reduce_sum %v axes [1] : tensor<100x2xf32> -> tensor<100xf32>
  return %f : tensor<100xf32>
}
func.func private @logits(%v: tensor<100x2xf32>, %a: tensor<2x4xf32>) -> tensor<100x4xf32> {
  %l = bism.matmul %v, %a : tensor<100x2xf32>, tensor<2x4xf32> -> tensor<100x4xf32>
  return %l : tensor<100x4xf32>
}
bism.model @listed energy @energy [@W, @b, @c, @logsigma]
    free_energy @free_energy [@W, @b, @c, @logsigma]
    posterior "bernoulli" @logits [@A] spec {} {
  bism.param @W : tensor<2x4xf32> {group = "theta", init = "normal", std = 3.0}
  bism.param @b : tensor<2xf32> {group = "theta", init = "constant", value = 0.5}
  bism.param @c : tensor<4xf32> {group = "theta", init = "zeros"}
  bism.param @logsigma : tensor<2xf32> {group = "theta", init = "constant", value = -1.0}
  bism.param @A : tensor<2x4xf32> {group = "phi", init = "zeros"}
}

// CHECK-LABEL: func.func private @energy(
// CHECK-SAME: %arg5: tensor<2xf32> {bism.param_name = "logsigma"})
// CHECK: bism.model @listed energy @energy [@W, @b, @c, @logsigma] free_energy @free_energy [@W, @b, @c, @logsigma] posterior "bernoulli" @logits [@A]
// CHECK-NEXT: bism.param @W : tensor<2x4xf32> {group = "theta", init = "normal", std = 3.000000e+00 : f64}
// CHECK-NEXT: bism.param @b : tensor<2xf32> {group = "theta", init = "constant", value = 5.000000e-01 : f64}
// CHECK-NEXT: bism.param @c : tensor<4xf32> {group = "theta", init = "zeros"}
// CHECK-NEXT: bism.param @logsigma : tensor<2xf32> {group = "theta", init = "constant", value = -1.000000e+00 : f64}
// CHECK-NEXT: bism.param @A : tensor<2x4xf32> {group = "phi", init = "zeros"}
// CHECK-NEXT: }

// STEP-LABEL: func.func @train_step_with_noise(
// STEP-SAME: %arg0: tensor<2x4xf32>, %arg1: tensor<2xf32>, %arg2: tensor<4xf32>, %arg3: tensor<2xf32>, %arg4: tensor<2x4xf32>,

// -----

// bism.onnx_dims sizes symbolic dimensions other than the batch; an f64
// graph gives f64 parameters.

func.func private @energy(tensor<5x2xf64>, tensor<5x3xf64>) -> tensor<5xf64>
    attributes {bism.onnx_file = "Inputs/symbolic_latent.onnxtext", bism.onnx_dims = {H = 3}}
func.func private @logits(%v: tensor<5x2xf64>, %a: tensor<2x3xf64>) -> tensor<5x3xf64> {
  %l = bism.matmul %v, %a : tensor<5x2xf64>, tensor<2x3xf64> -> tensor<5x3xf64>
  return %l : tensor<5x3xf64>
}
bism.model @symbolic energy @energy [] posterior "bernoulli" @logits [@A]
    spec {} {
  bism.param @A : tensor<2x3xf64> {group = "phi", init = "zeros"}
}

// CHECK-LABEL: func.func private @energy(
// CHECK-SAME: %arg0: tensor<5x2xf64> {bism.onnx_name = "v"}, %arg1: tensor<5x3xf64> {bism.onnx_name = "h"}, %arg2: tensor<2xf64> {bism.param_name = "b"}) -> (tensor<5xf64> {bism.onnx_name = "e"})
// CHECK: bism.model @symbolic energy @energy [@b] posterior "bernoulli" @logits [@A]
// CHECK-NEXT: bism.param @A : tensor<2x3xf64> {group = "phi", init = "zeros"}
// CHECK-NEXT: bism.param @b : tensor<2xf64> {bism.onnx_name = "b", group = "theta", init = "value", value = dense<[0.000000e+00, 1.000000e+00]> : tensor<2xf64>}
// CHECK-NEXT: }

// STEP-LABEL: func.func @train_step_with_noise(
// STEP-SAME: %arg0: tensor<2xf64>, %arg1: tensor<2x3xf64>,
