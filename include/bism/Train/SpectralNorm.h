//===- SpectralNorm.h - spectral normalisation of energy weights -*- C++ -*-===//
//
// The spec field `spectral_norm = ["W", ...]` names θ parameters (matrices
// or convolution kernels) that the energy uses divided by their largest
// singular value, W / σ(W) (Miyato et al. 2018), as BiDVL's energy network
// does. `applySpectralNorm` wraps the model's energy and free energy
// functions so that every user of the model (the training step, the
// evaluation functions, bism-run's samplers) sees the normalised weights;
// the parameters stored and trained are the unnormalised W.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_TRAIN_SPECTRALNORM_H
#define BISM_TRAIN_SPECTRALNORM_H

#include "mlir/IR/BuiltinOps.h"

namespace bism::train {

/// Power iterations per evaluation by default (`spectral_norm_iterations`),
/// from a fixed start vector, so the step keeps no state for them. The
/// autodiff unrolls them wherever the energy is differentiated, which is
/// what bounds them (kMaxSpectralNormIterations).
constexpr int64_t kSpectralNormIterations = 10, kMaxSpectralNormIterations = 50;

/// For each bism.model whose spec has `spectral_norm`: a function
/// `@F__spectral_norm` per energy or free energy F listing one of the named
/// parameters, F(v, ..., W / σ(W), ...), σ(W) = uᵀ W̄ v with W̄ = W reshaped
/// to [dim 0, rest] and u, v its leading singular vectors estimated by
/// `spectral_norm_iterations` power iterations from u₀ = 1/√rows on
/// stop_gradient(W̄) (so the
/// gradient in W is Miyato's: that of W / (uᵀ W̄ v) with u, v held); the
/// model's clause then names the wrapper. Errors (a name no clause lists,
/// a parameter of rank < 2) name the place.
mlir::LogicalResult applySpectralNorm(mlir::ModuleOp module);

} // namespace bism::train

#endif // BISM_TRAIN_SPECTRALNORM_H
