// bism-run on a method "bidvl" model (a small energy, Gaussian inference
// model and MLP generator on the checkerboard): training logs the BiDVL
// metrics, eval adds the test reconstruction RMSE through q's mean and the
// generator, sample draws from the generator (by default for such a model)
// and refines by Langevin steps on the free energy when asked. The step's
// values are checked by test/unit/BidvlTest.cpp.
// RUN: rm -rf %t && mkdir -p %t
// RUN: bism-run %s --iters 200 --log-every 100 --eval-every 0 --out %t/run --no-png | FileCheck %s --check-prefix=TRAIN
// RUN: FileCheck %s --input-file=%t/run/metrics.jsonl --check-prefix=METRICS
// RUN: bism-run eval %t/run/last.ckpt 2>/dev/null | FileCheck %s --check-prefix=EVAL
// RUN: bism-run sample %t/run/last.ckpt --count 150 --npy %t/gen.npy | FileCheck %s --check-prefix=GEN
// RUN: head -c 128 %t/gen.npy | tail -c +11 | FileCheck %s --check-prefix=NPY
// RUN: bism-run sample %t/run/last.ckpt --count 100 --sweeps 10 --npy %t/refined.npy | FileCheck %s --check-prefix=REFINED
// RUN: bism-run sample %t/run/last.ckpt --sampler langevin --count 100 --sweeps 10 --npy %t/langevin.npy | FileCheck %s --check-prefix=LANGEVIN
// RUN: not bism-run sample %t/run/last.ckpt --sampler gibbs --npy %t/x.npy 2>&1 | FileCheck %s --check-prefix=NOGIBBS

// TRAIN: "method": "bidvl",
// TRAIN: done: 200 steps, {{.*}} test_recon_rmse {{[0-9.]+}}
// METRICS: {"step": 100, "loss": {{[-0-9.e]+}}, "J": {{[-0-9.e]+}}, "lower_before": {{[-0-9.e]+}}, "lower_after": {{[-0-9.e]+}}, "grad_norm_theta": {{[0-9.e]+}}, "epoch": 0}
// EVAL: {"step": 200, "ll_method": "none", {{.*}}"test_ssm": {{-?[0-9]+\.[0-9]+}}, "test_recon_rmse": {{[0-9]+\.[0-9]+}}}
// GEN: 150 generator samples
// NPY: 'descr': '<f8', 'fortran_order': False, 'shape': (150, 2), }
// REFINED: 100 generator samples, refined by 10 Langevin steps on the free energy
// LANGEVIN: 100 samples after 10 Langevin steps
// NOGIBBS: bism-run: error: --sampler gibbs: the model has no gibbs function

func.func private @energy(%v: tensor<100x2xf32>, %a: tensor<2x16xf32>, %c: tensor<16xf32>, %u: tensor<16xf32>) -> tensor<100xf32> {
  %half = bism.constant dense<0.5> : tensor<100xf32>
  %sq = bism.square %v : tensor<100x2xf32>
  %q = bism.reduce_sum %sq axes [1] : tensor<100x2xf32> -> tensor<100xf32>
  %qh = bism.mul %q, %half : tensor<100xf32>
  %va = bism.matmul %v, %a : tensor<100x2xf32>, tensor<2x16xf32> -> tensor<100x16xf32>
  %cb = bism.broadcast %c : tensor<16xf32> to tensor<100x16xf32>
  %pre = bism.add %va, %cb : tensor<100x16xf32>
  %sp = bism.softplus %pre : tensor<100x16xf32>
  %ub = bism.broadcast %u : tensor<16xf32> to tensor<100x16xf32>
  %w = bism.mul %sp, %ub : tensor<100x16xf32>
  %s = bism.reduce_sum %w axes [1] : tensor<100x16xf32> -> tensor<100xf32>
  %e = bism.sub %qh, %s : tensor<100xf32>
  return %e : tensor<100xf32>
}
func.func private @encoder(%v: tensor<100x2xf32>, %p: tensor<2x2xf32>, %b: tensor<2xf32>, %s: tensor<2xf32>) -> (tensor<100x2xf32>, tensor<100x2xf32>) {
  %vp = bism.matmul %v, %p : tensor<100x2xf32>, tensor<2x2xf32> -> tensor<100x2xf32>
  %bb = bism.broadcast %b : tensor<2xf32> to tensor<100x2xf32>
  %mu = bism.add %vp, %bb : tensor<100x2xf32>
  %ls = bism.broadcast %s : tensor<2xf32> to tensor<100x2xf32>
  return %mu, %ls : tensor<100x2xf32>, tensor<100x2xf32>
}
func.func private @generator(%h: tensor<100x2xf32>, %g1: tensor<2x32xf32>, %o1: tensor<32xf32>, %g2: tensor<32x2xf32>, %o2: tensor<2xf32>) -> tensor<100x2xf32> {
  %hg = bism.matmul %h, %g1 : tensor<100x2xf32>, tensor<2x32xf32> -> tensor<100x32xf32>
  %ob = bism.broadcast %o1 : tensor<32xf32> to tensor<100x32xf32>
  %pre = bism.add %hg, %ob : tensor<100x32xf32>
  %a = bism.tanh %pre : tensor<100x32xf32>
  %x = bism.matmul %a, %g2 : tensor<100x32xf32>, tensor<32x2xf32> -> tensor<100x2xf32>
  %o2b = bism.broadcast %o2 : tensor<2xf32> to tensor<100x2xf32>
  %y = bism.add %x, %o2b : tensor<100x2xf32>
  return %y : tensor<100x2xf32>
}
bism.model @dvl free_energy @energy [@A, @c, @u]
    generator @generator [@G1, @o1, @G2, @o2]
    posterior "gaussian" @encoder [@P, @b, @s]
    spec {method = "bidvl", dataset = "checkerboard", bidvl_basic_ratio = 0.1, lr_theta = 1.0e-3, lr_phi = 1.0e-3} {
  bism.param @A : tensor<2x16xf32> {group = "theta", init = "normal", std = 1.0}
  bism.param @c : tensor<16xf32> {group = "theta", init = "zeros"}
  bism.param @u : tensor<16xf32> {group = "theta", init = "constant", value = 1.0}
  bism.param @P : tensor<2x2xf32> {group = "phi", init = "normal", std = 0.1}
  bism.param @b : tensor<2xf32> {group = "phi", init = "zeros"}
  bism.param @s : tensor<2xf32> {group = "phi", init = "zeros"}
  bism.param @G1 : tensor<2x32xf32> {group = "phi", init = "normal", std = 0.5}
  bism.param @o1 : tensor<32xf32> {group = "phi", init = "zeros"}
  bism.param @G2 : tensor<32x2xf32> {group = "phi", init = "normal", std = 0.2}
  bism.param @o2 : tensor<2xf32> {group = "phi", init = "zeros"}
}
