// The tutorial's model again (docs/tutorial.md, part 2), its energy and
// encoder exported from PyTorch by export_torch.py: the declarations name
// the ONNX files, and the empty parameter lists take the files' parameters
// (named as in PyTorch, starting at PyTorch's initial values).

func.func private @energy(tensor<?x2xf32>, tensor<?x2xf32>) -> tensor<?xf32>
    attributes {bism.onnx_file = "energy.onnx"}

func.func private @encoder(tensor<?x2xf32>) -> (tensor<?x2xf32>, tensor<?x2xf32>)
    attributes {bism.onnx_file = "encoder.onnx"}

bism.model @first_onnx
    energy @energy []
    posterior "gaussian" @encoder []
    spec {method = "bism", objective = "dsm", noise_std = 0.3,
          divergence = "kl", inner_steps = 5, unroll_steps = 2,
          lr_theta = 1.0e-3, lr_phi = 1.0e-3, unroll_lr = 0.1,
          batch_size = 100, iterations = 6000, seed = 0,
          dataset = "data/result0.npy,data/result1.npy"} {
}
