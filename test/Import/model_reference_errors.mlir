// Errors of ONNX references in model files, each at the declaration (or the
// model clause) that causes it; bism-opt exits with code 1.
// RUN: bism-opt %s --split-input-file --verify-diagnostics --bism-resolve-onnx
// RUN: not bism-opt %s --split-input-file --bism-resolve-onnx 2>&1 | FileCheck %s

// CHECK: model_reference_errors.mlir:[[@LINE+2]]:1: error: @energy: cannot open ONNX file '{{.*}}Inputs/no_such_model.onnx': No such file or directory
// expected-error-re @+1 {{@energy: cannot open ONNX file '{{.*}}Inputs/no_such_model.onnx': No such file or directory}}
func.func private @energy(tensor<100x2xf32>, tensor<100x4xf32>) -> tensor<100xf32>
    attributes {bism.onnx_file = "Inputs/no_such_model.onnx"}
bism.model @m energy @energy [] spec {} {
}

// -----

// expected-error-re @+1 {{cannot import @energy from the ONNX file '{{.*}}Inputs/truncated.onnx': '{{.*}}Inputs/truncated.onnx' is not a valid ONNX model (the protobuf cannot be parsed: the file is empty, truncated or corrupt)}}
func.func private @energy(tensor<100x2xf32>, tensor<100x4xf32>) -> tensor<100xf32>
    attributes {bism.onnx_file = "Inputs/truncated.onnx"}
bism.model @m energy @energy [] spec {} {
}

// -----

// expected-error-re @+1 {{cannot import @energy from the ONNX file '{{.*}}errors_unsupported.onnxtext': node producing 'y' (op type 'Erf', domain 'ai.onnx', opset 17): unsupported operator; supported operators of domain 'ai.onnx' (opsets): Abs (13-21)}}
func.func private @energy(tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2xf32>
    attributes {bism.onnx_file = "errors_unsupported.onnxtext"}
bism.model @m energy @energy [] spec {} {
}

// -----

// expected-error-re @+2 {{@energy is declared '(tensor<100x3xf32>, tensor<100x4xf32>) -> tensor<100xf32>' but the graph in the ONNX file '{{.*}}Inputs/grbm_energy.onnxtext' computes '(tensor<100x2xf32>, tensor<100x4xf32>) -> tensor<100xf32>' (inputs 'v', 'h'; outputs 'e')}}
// expected-note @+1 {{symbolic dimensions of the graph inputs take the declared batch size (dimension 0 of the first argument) unless 'bism.onnx_dims' names them}}
func.func private @energy(tensor<100x3xf32>, tensor<100x4xf32>) -> tensor<100xf32>
    attributes {bism.onnx_file = "Inputs/grbm_energy.onnxtext"}
bism.model @m energy @energy [] spec {} {
}

// -----

// expected-error-re @+2 {{@energy is declared '(tensor<100x2xf32>, tensor<100x4xf32>) -> tensor<100x1xf32>' but the graph in the ONNX file '{{.*}}' computes '(tensor<100x2xf32>, tensor<100x4xf32>) -> tensor<100xf32>'}}
// expected-note @+1 {{symbolic dimensions}}
func.func private @energy(tensor<100x2xf32>, tensor<100x4xf32>) -> tensor<100x1xf32>
    attributes {bism.onnx_file = "Inputs/grbm_energy.onnxtext"}
bism.model @m energy @energy [] spec {} {
}

// -----

// expected-error @+2 {{@energy is declared '(tensor<100x2xf32>) -> tensor<100xf32>' but the graph}}
// expected-note @+1 {{symbolic dimensions}}
func.func private @energy(tensor<100x2xf32>) -> tensor<100xf32>
    attributes {bism.onnx_file = "Inputs/grbm_energy.onnxtext"}
bism.model @m free_energy @energy [] spec {method = "marginal"} {
}

// -----

func.func private @energy(tensor<100x2xf32>, tensor<100x4xf32>) -> tensor<100xf32>
    attributes {bism.onnx_file = "Inputs/grbm_energy.onnxtext"}
// expected-error-re @+1 {{'bism.model' op lists 2 parameters for the energy @energy, imported from the ONNX file '{{.*}}Inputs/grbm_energy.onnxtext' with 4 trainable initializers ('W' tensor<2x4xf32>, 'b' tensor<2xf32>, 'c' tensor<4xf32>, 'logsigma' tensor<2xf32>); list one per initializer, in order, or none ([]) to declare them from the file}}
bism.model @m energy @energy [@W, @b] spec {} {
  bism.param @W : tensor<2x4xf32> {group = "theta", init = "zeros"}
  bism.param @b : tensor<2xf32> {group = "theta", init = "zeros"}
}

// -----

func.func private @energy(tensor<100x2xf32>, tensor<100x4xf32>) -> tensor<100xf32>
    attributes {bism.onnx_file = "Inputs/grbm_energy.onnxtext"}
// expected-error @+1 {{'bism.model' op parameter @W has type 'tensor<4x2xf32>' but the ONNX initializer 'W' it stands for in @energy has type 'tensor<2x4xf32>'}}
bism.model @m energy @energy [@W, @b, @c, @logsigma] spec {} {
  bism.param @W : tensor<4x2xf32> {group = "theta", init = "zeros"}
  bism.param @b : tensor<2xf32> {group = "theta", init = "zeros"}
  bism.param @c : tensor<4xf32> {group = "theta", init = "zeros"}
  bism.param @logsigma : tensor<2xf32> {group = "theta", init = "zeros"}
}

// -----

func.func private @sweep(tensor<100x2xf32>, tensor<100x4xf32>, tensor<100x2xf32>) -> tensor<100x2xf32>
    attributes {bism.onnx_file = "Inputs/grbm_energy.onnxtext"}
func.func private @f(%v: tensor<100x2xf32>) -> tensor<100xf32> {
  %f = bism.reduce_sum %v axes [1] : tensor<100x2xf32> -> tensor<100xf32>
  return %f : tensor<100xf32>
}
// expected-error-re @+1 {{'bism.model' op names @sweep as its gibbs sweep, but @sweep is imported from the ONNX file '{{.*}}Inputs/grbm_energy.onnxtext': a Gibbs sweep takes its parameters between v and the noise, so it must be written in the model file}}
bism.model @m free_energy @f [] gibbs @sweep [] spec {method = "cd"} {
}

// -----

func.func private @energy(tensor<100x2xf32>, tensor<100x4xf32>) -> tensor<100xf32>
    attributes {bism.onnx_file = "Inputs/grbm_energy.onnxtext"}
func.func @caller(%v: tensor<100x2xf32>, %h: tensor<100x4xf32>) -> tensor<100xf32> {
  // expected-error-re @+1 {{'func.call' op uses @energy, which is imported from the ONNX file '{{.*}}Inputs/grbm_energy.onnxtext' and takes its parameters as trailing arguments; only bism.model clauses may name it}}
  %e = func.call @energy(%v, %h) : (tensor<100x2xf32>, tensor<100x4xf32>) -> tensor<100xf32>
  return %e : tensor<100xf32>
}
bism.model @m energy @energy [] spec {} {
}

// -----

// expected-error-re @+1 {{@energy names the ONNX file '{{.*}}Inputs/grbm_energy.onnxtext' but no bism.model clause names @energy; imported functions are the energy, free_energy, component_log_mass or posterior of a model}}
func.func private @energy(tensor<100x2xf32>, tensor<100x4xf32>) -> tensor<100xf32>
    attributes {bism.onnx_file = "Inputs/grbm_energy.onnxtext"}

// -----

// expected-error @+1 {{@both is named both by a posterior or generator clause and by an energy clause; its parameters would be in two groups}}
func.func private @both(tensor<100x2xf32>) -> tensor<100x4xf32>
    attributes {bism.onnx_file = "Inputs/mlp_posterior.onnxtext"}
bism.model @m energy @both [] posterior "bernoulli" @both [] spec {} {
}

// -----

// expected-error @+1 {{'bism.onnx_file' must be a non-empty string (the ONNX file's path), got 3 : i64}}
func.func private @energy(tensor<100x2xf32>, tensor<100x4xf32>) -> tensor<100xf32>
    attributes {bism.onnx_file = 3}
bism.model @m energy @energy [] spec {} {
}

// -----

// expected-error @+1 {{'bism.onnx_dims' must be a dictionary of positive sizes {name = size, ...}, got {H = 0 : i64}}}
func.func private @energy(tensor<5x2xf64>, tensor<5x3xf64>) -> tensor<5xf64>
    attributes {bism.onnx_file = "Inputs/symbolic_latent.onnxtext", bism.onnx_dims = {H = 0}}
bism.model @m energy @energy [] spec {} {
}

// -----

// Without bism.onnx_dims the latent width takes the batch size too.
// expected-error-re @+2 {{@energy is declared '(tensor<5x2xf64>, tensor<5x3xf64>) -> tensor<5xf64>' but the graph in the ONNX file '{{.*}}' computes '(tensor<5x2xf64>, tensor<5x5xf64>) -> tensor<5xf64>'}}
// expected-note @+1 {{symbolic dimensions}}
func.func private @energy(tensor<5x2xf64>, tensor<5x3xf64>) -> tensor<5xf64>
    attributes {bism.onnx_file = "Inputs/symbolic_latent.onnxtext"}
bism.model @m energy @energy [] spec {} {
}
