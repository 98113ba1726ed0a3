// --bism-build-train-step=evaluation also emits bism-run's evaluation
// functions. The checkerboard GRBM (a free energy, bernoulli latents) gets
// the marginal score and the per-sample SSM objective (and, having an
// energy and a posterior, the energy gradient and posterior mean); this
// file's linear-Gaussian model (gaussian latents, no free energy) gets the
// posterior Fisher divergence, the energy gradient for joint Langevin
// sampling, and the test losses through q (approximate SSM, and its own
// objective).
// Values are checked by test/unit/EvaluationTest.cpp.
// RUN: bism-opt %S/../../examples/grbm/checkerboard.mlir --bism-build-train-step=evaluation | FileCheck %s --check-prefix=GRBM
// RUN: bism-opt %s --bism-build-train-step=evaluation | FileCheck %s --check-prefix=LG
// RUN: bism-opt %s --bism-build-train-step=evaluation | FileCheck %s --check-prefix=LOSS
// RUN: bism-opt %s --bism-build-train-step=evaluation --bism-autodiff | FileCheck %s --check-prefix=AD
// RUN: bism-opt %s --bism-build-train-step | FileCheck %s --check-prefix=NONE

// GRBM: func.func private @grbm__eval__free_energy_sum(%arg0: tensor<100x2xf32>, %{{.*}}) -> tensor<f32>
// GRBM: func.func @eval_score(%[[V:.*]]: tensor<100x2xf32>, %{{.*}}) -> tensor<100x2xf32>
// GRBM-NEXT: %[[G:.*]] = bism.grad @grbm__eval__free_energy_sum(%[[V]], {{.*}}) wrt [0]
// GRBM-NEXT: %[[S:.*]] = bism.neg %[[G]]
// GRBM-NEXT: return %[[S]]
// GRBM: func.func @eval_ssm(%[[X:.*]]: tensor<100x2xf32>, %[[U:.*]]: tensor<100x2xf32>, %[[W:.*]]: tensor<2x4xf32>, %[[B:.*]]: tensor<2xf32>, %[[C:.*]]: tensor<4xf32>, %[[L:.*]]: tensor<2xf32>) -> tensor<100xf32>
// GRBM-NEXT: %[[SC:.*]] = call @eval_score(%[[X]], %[[W]], %[[B]], %[[C]], %[[L]])
// GRBM-NEXT: %[[HU:.*]] = bism.hvp @grbm__eval__free_energy_sum(%[[X]], %[[W]], %[[B]], %[[C]], %[[L]], %[[U]]) wrt [0]
// GRBM-NEXT: %[[UHU:.*]] = bism.mul %[[U]], %[[HU]]
// GRBM-NEXT: %[[T:.*]] = bism.reduce_sum %[[UHU]] axes [1]
// GRBM-NEXT: %[[S2:.*]] = bism.square %[[SC]]
// GRBM-NEXT: %[[N:.*]] = bism.reduce_sum %[[S2]] axes [1]
// GRBM-NEXT: %[[HALF:.*]] = bism.constant dense<5.000000e-01>
// GRBM-NEXT: %[[HN:.*]] = bism.mul %[[N]], %[[HALF]]
// GRBM-NEXT: %[[R:.*]] = bism.sub %[[HN]], %[[T]]
// GRBM-NEXT: return %[[R]] : tensor<100xf32>
// The GRBM has an energy and a bernoulli posterior: the energy gradient
// and the posterior mean (sigmoid of the logits) for Langevin sampling on v
// at fixed h; no posterior Fisher divergence (binary latents).
// GRBM-NOT: eval_posterior_fisher
// GRBM: func.func @eval_energy_gradient(
// GRBM-NEXT: bism.grad @grbm__eval__energy_sum({{.*}}) wrt [0, 1]
// GRBM: func.func @eval_posterior_mean(%[[PV:.*]]: tensor<100x2xf32>, %[[PA:.*]]: tensor<2x4xf32>, %[[PD:.*]]: tensor<4xf32>) -> tensor<100x4xf32>
// GRBM-NEXT: %[[LOGITS:.*]] = call @posterior_logits(%[[PV]], %[[PA]], %[[PD]])
// GRBM-NEXT: %[[MEAN:.*]] = bism.sigmoid %[[LOGITS]]
// GRBM-NEXT: return %[[MEAN]]
// GRBM-NOT: eval_posterior_fisher

// LG-NOT: eval_score
// LG: func.func private @lg__eval__sample_posterior
// LG: func.func @eval_posterior_fisher(%[[X:.*]]: tensor<100x2xf64>, %[[XI:.*]]: tensor<100x2xf64>, %[[W:.*]]: tensor<2x2xf64>, %[[A:.*]]: tensor<2x2xf64>, %[[D:.*]]: tensor<2xf64>, %[[S:.*]]: tensor<2xf64>) -> tensor<100xf64>
// LG-NEXT: %[[H:.*]] = call @lg__eval__sample_posterior(%[[X]], %[[A]], %[[D]], %[[S]], %[[XI]])
// LG-NEXT: %[[GH:.*]] = bism.grad @lg__eval__neg_log_joint(%[[X]], %[[H]], %[[W]], %[[A]], %[[D]], %[[S]]) wrt [1]
// LG-NEXT: %[[SQ:.*]] = bism.square %[[GH]]
// LG-NEXT: %[[SUM:.*]] = bism.reduce_sum %[[SQ]] axes [1]
// LG: bism.mul %[[SUM]]
// LG: func.func @eval_energy_gradient(%[[X2:.*]]: tensor<100x2xf64>, %[[H2:.*]]: tensor<100x2xf64>, %[[W2:.*]]: tensor<2x2xf64>) -> (tensor<100x2xf64>, tensor<100x2xf64>)
// LG-NEXT: %[[G:.*]]:2 = bism.grad @lg__eval__energy_sum(%[[X2]], %[[H2]], %[[W2]]) wrt [0, 1]
// LG-NEXT: return %[[G]]#0, %[[G]]#1
// No free energy: the SSM loss with the score through q (u, then ξ), and
// the model's own objective, DSM: x = v + 0.3 ε, ½‖s(x) + ε/0.3‖².
// LOSS: func.func @eval_approximate_ssm(%[[AX:.*]]: tensor<100x2xf64>, %[[AU:.*]]: tensor<100x2xf64>, %[[AXI:.*]]: tensor<100x2xf64>,
// LOSS-NEXT: %[[AS:.*]] = bism.stop_gradient %[[AX]]
// LOSS-NEXT: %[[AH:.*]] = call @lg__eval__sample_posterior(%[[AS]], {{.*}}, %[[AXI]])
// LOSS-NEXT: call @lg__eval__score(%[[AX]], %[[AH]],
// LOSS-NEXT: bism.hvp @lg__eval__neg_log_joint(%[[AX]], %[[AH]], {{.*}}, %[[AU]]) wrt [0]
// LOSS: func.func @eval_objective(%[[OV:.*]]: tensor<100x2xf64>, %[[OE:.*]]: tensor<100x2xf64>, %[[OXI:.*]]: tensor<100x2xf64>,
// LOSS-NEXT: %[[SIGMA:.*]] = bism.constant dense<3.000000e-01>
// LOSS-NEXT: %[[SE:.*]] = bism.mul %[[OE]], %[[SIGMA]]
// LOSS-NEXT: %[[OX:.*]] = bism.add %[[OV]], %[[SE]]
// LOSS-NEXT: %[[OS:.*]] = bism.stop_gradient %[[OX]]
// LOSS-NEXT: %[[OH:.*]] = call @lg__eval__sample_posterior(%[[OS]], {{.*}}, %[[OXI]])
// LOSS-NEXT: %[[OSC:.*]] = call @lg__eval__score(%[[OX]], %[[OH]],
// LOSS-NEXT: %[[INV:.*]] = bism.constant dense<3.3333333333333335>
// LOSS-NEXT: %[[EI:.*]] = bism.mul %[[OE]], %[[INV]]
// LOSS-NEXT: %[[R:.*]] = bism.add %[[OSC]], %[[EI]]
// LOSS-NEXT: bism.square %[[R]]

// AD-NOT: bism.grad
// AD-NOT: bism.hvp
// AD: func.func @eval_posterior_fisher
// AD: func.func @eval_energy_gradient

// NONE-NOT: @eval_

// E(v, h) = ½‖v − hW‖² + ½‖h‖²; q(h|v) = N(vA + d, diag(e^{2s})).
func.func private @energy(%v: tensor<100x2xf64>, %h: tensor<100x2xf64>,
                          %w: tensor<2x2xf64>) -> tensor<100xf64> {
  %half = bism.constant dense<0.5> : tensor<100xf64>
  %hw = bism.matmul %h, %w : tensor<100x2xf64>, tensor<2x2xf64> -> tensor<100x2xf64>
  %r = bism.sub %v, %hw : tensor<100x2xf64>
  %r2 = bism.square %r : tensor<100x2xf64>
  %h2 = bism.square %h : tensor<100x2xf64>
  %t = bism.add %r2, %h2 : tensor<100x2xf64>
  %sum = bism.reduce_sum %t axes [1] : tensor<100x2xf64> -> tensor<100xf64>
  %e = bism.mul %sum, %half : tensor<100xf64>
  return %e : tensor<100xf64>
}

func.func private @posterior(%v: tensor<100x2xf64>, %a: tensor<2x2xf64>,
                             %d: tensor<2xf64>, %s: tensor<2xf64>)
    -> (tensor<100x2xf64>, tensor<100x2xf64>) {
  %va = bism.matmul %v, %a : tensor<100x2xf64>, tensor<2x2xf64> -> tensor<100x2xf64>
  %db = bism.broadcast %d : tensor<2xf64> to tensor<100x2xf64>
  %mu = bism.add %va, %db : tensor<100x2xf64>
  %logstd = bism.broadcast %s : tensor<2xf64> to tensor<100x2xf64>
  return %mu, %logstd : tensor<100x2xf64>, tensor<100x2xf64>
}

bism.model @lg energy @energy [@W] posterior "gaussian" @posterior [@A, @d, @s]
    spec {method = "bism", objective = "dsm", inner_steps = 1,
          unroll_steps = 1, batch_size = 100} {
  bism.param @W : tensor<2x2xf64> {group = "theta", init = "zeros"}
  bism.param @A : tensor<2x2xf64> {group = "phi", init = "zeros"}
  bism.param @d : tensor<2xf64> {group = "phi", init = "zeros"}
  bism.param @s : tensor<2xf64> {group = "phi", init = "zeros"}
}
