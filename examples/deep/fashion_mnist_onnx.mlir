// Issue 14's deep image EBLVM, from PyTorch: examples/deep/model.py's
// ResNet energy and CNN Gaussian posterior, exported by
// examples/deep/export.py (run it first: the .onnx files are not in git),
// trained with BiMDSM (K = 5 plain posterior steps on the Fisher lower
// level, N = 0) on Fashion-MNIST in [0, 1], as in the BiSM paper's §5.2.
//
//   python3 examples/deep/export.py
//   build/bin/bism-run examples/deep/fashion_mnist_onnx.mlir --out runs/deep

func.func private @energy(tensor<?x784xf32>, tensor<?x50xf32>) -> tensor<?xf32>
    attributes {bism.onnx_file = "energy.onnx"}

func.func private @posterior(tensor<?x784xf32>) -> (tensor<?x50xf32>, tensor<?x50xf32>)
    attributes {bism.onnx_file = "posterior.onnx"}

bism.model @deep_eblvm_onnx
    energy @energy []
    posterior "gaussian" @posterior []
    spec {method = "bism", objective = "mdsm", sigma_min = 0.05,
          sigma_max = 0.5, sigma0 = 0.1, divergence = "fisher",
          inner_steps = 5, unroll_steps = 0, optimizer_theta = "adam",
          lr_theta = 1.0e-4, optimizer_phi = "adam", lr_phi = 1.0e-4,
          batch_size = 100, iterations = 20000, seed = 0,
          dataset = "fashion-mnist"} {
}
