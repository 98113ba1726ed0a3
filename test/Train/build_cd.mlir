// Methods "cd" and "pcd": contrastive divergence on the free energy with k
// Gibbs sweeps of the model's `gibbs` function, on the GRBM example
// (batch 100, D = 2, H = 4).
// RUN: sed 's/method = "bism"/method = "cd"/' %S/../../examples/grbm/checkerboard.mlir | bism-opt --bism-build-train-step | FileCheck %s --check-prefix=CD
// RUN: sed 's/method = "bism"/method = "pcd", gibbs_steps = 2/' %S/../../examples/grbm/checkerboard.mlir | bism-opt --bism-build-train-step | FileCheck %s --check-prefix=PCD
// RUN: sed 's/method = "bism"/method = "pcd", gibbs_steps = 2/' %S/../../examples/grbm/checkerboard.mlir | bism-opt --bism-build-train-step --bism-autodiff --canonicalize --cse | FileCheck %s --check-prefix=AD
// RUN: sed 's/method = "bism"/method = "cd", gibbs_steps = 3/' %S/../../examples/grbm/freyface.mlir | bism-opt --bism-build-train-step --bism-autodiff | FileCheck %s --check-prefix=AD

// CD-NOT:   sample_posterior
// CD-NOT:   phi_step
// CD-LABEL: func.func private @grbm__free_energy_sum(
// CD:         call @free_energy(
// One sweep: (x, θ..., u_h, z_v).
// CD-LABEL: func.func private @grbm__gibbs_chain(%arg0: tensor<100x2xf32>, %arg1: tensor<2x4xf32>, %arg2: tensor<2xf32>, %arg3: tensor<4xf32>, %arg4: tensor<2xf32>, %arg5: tensor<100x4xf32>, %arg6: tensor<100x2xf32>) -> tensor<100x2xf32>
// CD:         call @gibbs(%arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6)
// CD-NOT:     call @gibbs(
// CD:         return
// CD-LABEL: func.func private @grbm__cd_objective(%arg0: tensor<2x4xf32>, %arg1: tensor<2xf32>, %arg2: tensor<4xf32>, %arg3: tensor<2xf32>, %arg4: tensor<100x2xf32>, %arg5: tensor<100x2xf32>) -> tensor<f32>
// CD:         %[[NEG:.*]] = bism.stop_gradient %arg5
// CD:         call @grbm__free_energy_sum(%arg4,
// CD:         call @grbm__free_energy_sum(%[[NEG]],
// CD:         bism.sub
// CD-LABEL: func.func @draw_noise(%arg0: tensor<2xi32>) -> (tensor<100x4xf32>, tensor<100x2xf32>)
// CD:         bism.key_split %arg0[0]
// CD-NEXT:    bism.random_uniform
// CD:         bism.key_split %arg0[1]
// CD-NEXT:    bism.random_normal
// State θ, m_θ, s_θ, t_theta; v; u_h, z_v. Metrics fe_gap, ‖∇θ‖.
// CD-LABEL: func.func @train_step_with_noise(
// CD-SAME:    %arg12: tensor<f32>, %arg13: tensor<100x2xf32>, %arg14: tensor<100x4xf32>, %arg15: tensor<100x2xf32>)
// CD-SAME:    -> (tensor<2x4xf32>, tensor<2xf32>, tensor<4xf32>, tensor<2xf32>, tensor<2x4xf32>, tensor<2xf32>, tensor<4xf32>, tensor<2xf32>, tensor<2x4xf32>, tensor<2xf32>, tensor<4xf32>, tensor<2xf32>, tensor<f32>, tensor<f32>, tensor<f32>)
// The chain starts at the data batch.
// CD:         %[[VK:.*]] = call @grbm__gibbs_chain(%arg13, %arg0, %arg1, %arg2, %arg3, %arg14, %arg15)
// CD:         call @grbm__cd_objective(%arg0, %arg1, %arg2, %arg3, %arg13, %[[VK]])
// CD:         bism.grad @grbm__cd_objective(%arg0, %arg1, %arg2, %arg3, %arg13, %[[VK]]) wrt [0, 1, 2, 3]
// CD-LABEL: func.func @train_step(
// CD:         call @draw_noise(
// CD:         call @train_step_with_noise(
// CD-LABEL: func.func @theta_gradient_with_noise(
// CD-SAME:    -> (tensor<2x4xf32>, tensor<2xf32>, tensor<4xf32>, tensor<2xf32>)
// CD:         bism.grad @grbm__cd_objective(

// PCD-LABEL: func.func private @grbm__gibbs_chain(
// PCD:         %[[S1:.*]] = call @gibbs(%arg0,
// PCD:         call @gibbs(%[[S1]],
// PCD-LABEL: func.func @draw_noise(%arg0: tensor<2xi32>) -> (tensor<100x4xf32>, tensor<100x2xf32>, tensor<100x4xf32>, tensor<100x2xf32>)
// State θ, m_θ, s_θ, t_theta, chain (%arg13); v (%arg14); two sweeps' noise.
// PCD-LABEL: func.func @train_step_with_noise(
// PCD-SAME:    %arg12: tensor<f32>, %arg13: tensor<100x2xf32>, %arg14: tensor<100x2xf32>, %arg15: tensor<100x4xf32>, %arg16: tensor<100x2xf32>, %arg17: tensor<100x4xf32>, %arg18: tensor<100x2xf32>)
// PCD-SAME:    tensor<f32>, tensor<100x2xf32>, tensor<f32>, tensor<f32>)
// The chain starts at the carried state and is returned after the sweeps.
// PCD:         %[[VK:.*]] = call @grbm__gibbs_chain(%arg13, %arg0, %arg1, %arg2, %arg3, %arg15, %arg16, %arg17, %arg18)
// PCD:         bism.grad @grbm__cd_objective(%arg0, %arg1, %arg2, %arg3, %arg14, %[[VK]])
// PCD:         return {{.*}}, %[[VK]], %{{.*}}, %{{.*}} :

// AD-NOT: bism.grad
// AD-NOT: bism.hvp
// AD-NOT: bism.jvp
// AD-NOT: bism.vjp
