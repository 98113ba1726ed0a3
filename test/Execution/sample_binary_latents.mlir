// A model with binary latents and no free energy (the checkerboard GRBM
// without its free_energy, gibbs and component_log_mass clauses) is sampled
// by the BiSM paper's procedure: annealed Langevin on v with h fixed at the
// posterior mean of the training points it starts from. The samples lie on
// the data's square (their mean near the board's centre (0.5, 0.5)).
// RUN: rm -rf %t && mkdir -p %t && cd %t
// RUN: grep -v "free_energy @free_energy\|gibbs @gibbs\|component_log_mass @component_log_mass" %S/../../examples/grbm/checkerboard.mlir | sed 's/, ais_anneal = \["W", "c"\]//' > nofe.mlir
// RUN: bism-run nofe.mlir --iters 2000 --eval-every 0 --log-every 1000 --out run > /dev/null
// RUN: bism-run sample run --count 200 --sweeps 500 --start-temperature 100 --npy s.npy 2>&1 | FileCheck %s --check-prefix=SAMPLE
// SAMPLE: 200 samples after 500 Langevin steps from p(v|h) at the posterior mean of each chain's train image
// RUN: bism-run %s --entry mean --input @s.npy | FileCheck %s --check-prefix=MEAN
// MEAN: 2xf64=0.{{[3-6][0-9]*}} 0.{{[3-6][0-9]*}}
// RUN: not bism-run sample run --sampler gibbs --count 10 --npy g.npy 2>&1 | FileCheck %s --check-prefix=GIBBS
// GIBBS: bism-run: error: --sampler gibbs: the model has no gibbs function

func.func @mean(%x: tensor<200x2xf64>) -> tensor<2xf64> {
  %m = bism.reduce_mean %x axes [0] : tensor<200x2xf64> -> tensor<2xf64>
  return %m : tensor<2xf64>
}
