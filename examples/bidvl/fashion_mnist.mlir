// BiDVL (method "bidvl", docs/training.md "Method bidvl") on Fashion-MNIST
// in [0, 1]: examples/bidvl/model.py's convolutional marginal energy,
// Gaussian encoder and deconvolutional generator, exported by
// examples/bidvl/export.py (run it first: the .onnx files are not in git).
// The released code's settings where they apply: one lower-level step per
// upper step, Adam with beta1 = 0, lr 1e-4 for the energy and 3e-4 for the
// encoder and generator, batch 100; basic ratio 0.1 (bidvl_basic_ratio).
//
//   python3 examples/bidvl/export.py
//   build/bin/bism-run examples/bidvl/fashion_mnist.mlir --out runs/bidvl
//   build/bin/bism-run sample runs/bidvl --png generated.png --count 100

func.func private @energy(tensor<?x784xf32>) -> tensor<?xf32>
    attributes {bism.onnx_file = "energy.onnx"}

func.func private @encoder(tensor<?x784xf32>) -> (tensor<?x32xf32>, tensor<?x32xf32>)
    attributes {bism.onnx_file = "encoder.onnx"}

func.func private @generator(tensor<?x32xf32>) -> tensor<?x784xf32>
    attributes {bism.onnx_file = "generator.onnx"}

bism.model @bidvl_fashion_mnist
    free_energy @energy []
    generator @generator []
    posterior "gaussian" @encoder []
    spec {method = "bidvl", inner_steps = 1, bidvl_basic_ratio = 0.1,
          optimizer_theta = "adam", lr_theta = 1.0e-4,
          optimizer_phi = "adam", lr_phi = 3.0e-4, betas = [0.0, 0.9],
          batch_size = 100, iterations = 5000, seed = 0,
          dataset = "fashion-mnist"} {
}
