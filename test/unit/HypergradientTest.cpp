//===- HypergradientTest.cpp - method bism, hypergradient = "implicit" ----===//
//
// Two models of TrainStepHarness.h (f64, B = 8, D = 2, H = 4), BiDSM with
// the KL lower level G and one noise draw for every posterior stage:
// - the GRBM (temperature 0.5) at the exact posterior φ = (A = W, d = c),
//   Theorem 1's. With fixed Gumbel noise its relaxed-Bernoulli G has no
//   finite minimiser (Newton's method from there converges linearly, the
//   least Hessian eigenvalue → 0 as the logits run off), so no N → ∞ limit
//   of the unrolled steps exists; the implicit gradient there is checked
//   with a damping λ > 0 that makes H + λI positive definite;
// - the Gaussian-latent model (E quadratic in h, Gaussian q; φ = (A, d, s),
//   16 numbers), whose G(θ, ·) with fixed ξ has a strict minimum φ*, found
//   by Newton's method.
// (a) The implicit θ gradient equals a dense reference: H = ∂²G/∂φ² and
//     M = ∂²G/∂φ∂θ by 5-point differences of ∇φ G (exact, from
//     @M__phi_step), ∂J/∂φ by 5-point differences of @M__upper, ∂J/∂θ from
//     the N = 0 step, v = (H + λI)⁻¹ ∂J/∂φ by elimination.
// (b) At φ*, the unrolled θ gradient through N plain SGD steps of size
//     α = 1/λmax(H) (the same noise in every stage, so φⁿ = φ*) converges
//     to the implicit one as N grows, like (1 − λmin/λmax)^N.
// (c) The cg_residual metric is ‖b − (H + λI)v‖/‖b‖: small once solved.
//
//===----------------------------------------------------------------------===//
#include "TrainStepHarness.h"

#include <cstdio>
#include <functional>

namespace bism::trainstep {
namespace {

constexpr double kSigma = 0.3, kTemperature = 0.5;
const std::string kCommon =
    "objective = \"dsm\", noise_std = 0.3, divergence = \"kl\", "
    "inner_steps = 0, optimizer_phi = \"sgd\", lr_phi = 1.0, ";

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

std::vector<double> flatten(const std::vector<HostTensor> &tensors) {
  std::vector<double> out;
  for (const HostTensor &t : tensors)
    for (int64_t i = 0; i < t.numElements(); ++i)
      out.push_back(at(t, i));
  return out;
}

std::vector<HostTensor> unflatten(const std::vector<double> &values,
                                  const std::vector<HostTensor> &like) {
  std::vector<HostTensor> out = like;
  size_t k = 0;
  for (HostTensor &t : out)
    for (int64_t i = 0; i < t.numElements(); ++i)
      t.dataAs<double>()[i] = values[k++];
  return out;
}

double norm(const std::vector<double> &x) {
  double sum = 0;
  for (double xi : x)
    sum += xi * xi;
  return std::sqrt(sum);
}

double relativeDistance(const std::vector<double> &a,
                        const std::vector<double> &b) {
  std::vector<double> d(a.size());
  for (size_t i = 0; i < a.size(); ++i)
    d[i] = a[i] - b[i];
  return norm(d) / norm(b);
}

/// A row-major n×n matrix.
using Matrix = std::vector<double>;

/// x with A x = b, Gaussian elimination with partial pivoting.
std::vector<double> solve(Matrix a, std::vector<double> b) {
  size_t n = b.size();
  for (size_t col = 0; col < n; ++col) {
    size_t pivot = col;
    for (size_t row = col + 1; row < n; ++row)
      if (std::fabs(a[row * n + col]) > std::fabs(a[pivot * n + col]))
        pivot = row;
    for (size_t k = 0; k < n; ++k)
      std::swap(a[col * n + k], a[pivot * n + k]);
    std::swap(b[col], b[pivot]);
    for (size_t row = col + 1; row < n; ++row) {
      double f = a[row * n + col] / a[col * n + col];
      for (size_t k = col; k < n; ++k)
        a[row * n + k] -= f * a[col * n + k];
      b[row] -= f * b[col];
    }
  }
  std::vector<double> x(n);
  for (size_t row = n; row-- > 0;) {
    double sum = b[row];
    for (size_t k = row + 1; k < n; ++k)
      sum -= a[row * n + k] * x[k];
    x[row] = sum / a[row * n + row];
  }
  return x;
}

/// The eigenvalues of a symmetric matrix, ascending (cyclic Jacobi).
std::vector<double> symmetricEigenvalues(Matrix a, size_t n) {
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0;
    for (size_t p = 0; p < n; ++p)
      for (size_t q = p + 1; q < n; ++q)
        off += a[p * n + q] * a[p * n + q];
    if (off < 1e-30)
      break;
    for (size_t p = 0; p < n; ++p)
      for (size_t q = p + 1; q < n; ++q) {
        if (a[p * n + q] == 0)
          continue;
        double theta = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q]);
        double t = (theta >= 0 ? 1 : -1) /
                   (std::fabs(theta) + std::sqrt(theta * theta + 1));
        double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (size_t k = 0; k < n; ++k) { // columns p, q
          double akp = a[k * n + p], akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (size_t k = 0; k < n; ++k) { // rows p, q
          double apk = a[p * n + k], aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
      }
  }
  std::vector<double> values(n);
  for (size_t i = 0; i < n; ++i)
    values[i] = a[i * n + i];
  std::sort(values.begin(), values.end());
  return values;
}

/// 5-point central difference of the vector function f in coordinate i of
/// x (error O(h⁴)).
template <typename F>
std::vector<double> derivative(F f, std::vector<double> x, size_t i,
                               double h = 1e-3) {
  auto at = [&](double offset) {
    std::vector<double> moved = x;
    moved[i] += offset;
    return f(moved);
  };
  std::vector<double> m2 = at(-2 * h), m1 = at(-h), p1 = at(h), p2 = at(2 * h);
  std::vector<double> out(m1.size());
  for (size_t k = 0; k < out.size(); ++k)
    out[k] = (m2[k] - 8 * m1[k] + 8 * p1[k] - p2[k]) / (12 * h);
  return out;
}

/// One model, its inputs (one noise draw per stage) and φ, with the
/// functions the references call.
struct Problem {
  std::string name;
  std::function<std::string(const std::string &)> modelText;
  StepInputs in;
  /// Posterior noise tensors per stage (GRBM g1, g2; Gaussian ξ).
  size_t perStage = 1;
  HostTensor x;
  /// The implicit step with @M__phi_step (SGD of step 1: g = φ − φ') and
  /// @M__upper public.
  std::unique_ptr<JitModule> jit;
  size_t numPhi = 0;
  /// At φ: H, M (numPhi × numTheta, column j = ∂(∇φ G)/∂θ_j) and the
  /// eigenvalues of H, ascending.
  Matrix hessian, mixed;
  std::vector<double> eigenvalues;

  std::vector<HostTensor> stageNoise() const {
    return std::vector<HostTensor>(in.noise.begin() + 1,
                                   in.noise.begin() + 1 + perStage);
  }
  /// ∇φ G(θ, φ) with the upper noise.
  std::vector<double> phiGradient(const std::vector<double> &theta,
                                  const std::vector<double> &phi) {
    std::vector<HostTensor> args = unflatten(theta, in.theta);
    std::vector<HostTensor> phiTensors = unflatten(phi, in.phi);
    for (const auto *group : {&phiTensors, &in.mPhi, &in.sPhi})
      args.insert(args.end(), group->begin(), group->end());
    args.push_back(in.tPhi);
    args.push_back(x);
    for (const HostTensor &noise : stageNoise())
      args.push_back(noise);
    std::vector<HostTensor> r = call(*jit, name + "__phi_step", args);
    r.resize(in.phi.size());
    std::vector<double> stepped = flatten(r), g(phi.size());
    for (size_t i = 0; i < g.size(); ++i)
      g[i] = phi[i] - stepped[i];
    return g;
  }
  double upper(const std::vector<double> &theta, const std::vector<double> &phi) {
    std::vector<HostTensor> args = unflatten(theta, in.theta);
    std::vector<HostTensor> phiTensors = unflatten(phi, in.phi);
    args.insert(args.end(), phiTensors.begin(), phiTensors.end());
    args.push_back(x);
    args.insert(args.end(), in.noise.begin(), in.noise.end());
    return call(*jit, name + "__upper", args)[0].elementAsDouble(0);
  }
  /// The Jacobian of ∇φ G in `point` (θ when `inTheta`, else φ) by
  /// differences, column by column: numPhi rows, point.size() columns.
  Matrix phiGradientJacobian(const std::vector<double> &theta,
                             const std::vector<double> &phi, bool inTheta) {
    const std::vector<double> &point = inTheta ? theta : phi;
    size_t rows = phi.size(), columns = point.size();
    Matrix jacobian(rows * columns);
    for (size_t j = 0; j < columns; ++j) {
      std::vector<double> column = derivative(
          [&](const std::vector<double> &p) {
            return inTheta ? phiGradient(p, phi) : phiGradient(theta, p);
          },
          point, j);
      for (size_t k = 0; k < rows; ++k)
        jacobian[k * columns + j] = column[k];
    }
    return jacobian;
  }
  Matrix hessianAt(const std::vector<double> &theta,
                   const std::vector<double> &phi) {
    size_t n = phi.size();
    Matrix h = phiGradientJacobian(theta, phi, /*inTheta=*/false);
    for (size_t i = 0; i < n; ++i) // symmetric up to the differences' error
      for (size_t k = 0; k < i; ++k)
        h[i * n + k] = h[k * n + i] = 0.5 * (h[i * n + k] + h[k * n + i]);
    return h;
  }

  /// Builds the step; with `newton`, moves φ to ∇φ G = 0 first. Then H, M
  /// and H's eigenvalues at φ.
  void prepare(bool newton) {
    x = Grbm::noised(in.v, in.noise[0], kSigma);
    jit = buildStep(modelText(kCommon + "hypergradient = \"implicit\""),
                    {name + "__phi_step", name + "__upper"});
    if (!jit)
      return;
    std::vector<double> theta = flatten(in.theta), phi = flatten(in.phi);
    numPhi = phi.size();
    for (int iteration = 0; newton && iteration < 20; ++iteration) {
      std::vector<double> g = phiGradient(theta, phi);
      if (norm(g) < 1e-14)
        break;
      std::vector<double> step = solve(hessianAt(theta, phi), g);
      for (size_t i = 0; i < numPhi; ++i)
        phi[i] -= step[i];
    }
    in.phi = unflatten(phi, in.phi);
    hessian = hessianAt(theta, phi);
    eigenvalues = symmetricEigenvalues(hessian, numPhi);
    mixed = phiGradientJacobian(theta, phi, /*inTheta=*/true);
  }

  /// ∂J/∂θ − Mᵀ (H + λI)⁻¹ ∂J/∂φ, densely.
  std::vector<double> denseImplicitGradient(double damping) {
    std::vector<double> theta = flatten(in.theta), phi = flatten(in.phi);
    size_t nt = theta.size();
    std::vector<double> dJdPhi(numPhi);
    for (size_t i = 0; i < numPhi; ++i)
      dJdPhi[i] = derivative(
          [&](const std::vector<double> &p) {
            return std::vector<double>{upper(theta, p)};
          },
          phi, i)[0];
    Matrix damped = hessian;
    for (size_t i = 0; i < numPhi; ++i)
      damped[i * numPhi + i] += damping;
    std::vector<double> v = solve(damped, dJdPhi);
    std::vector<double> gradient = thetaGradient(kCommon + "unroll_steps = 0", 1);
    for (size_t j = 0; j < nt; ++j)
      for (size_t k = 0; k < numPhi; ++k)
        gradient[j] -= mixed[k * nt + j] * v[k];
    return gradient;
  }

  /// The inputs with the one noise draw in each of `stages` stages.
  StepInputs inputs(int64_t stages) const {
    StepInputs stepIn = in;
    stepIn.noise = {in.noise[0]};
    for (int64_t stage = 0; stage < stages; ++stage)
      for (const HostTensor &noise : stageNoise())
        stepIn.noise.push_back(noise);
    return stepIn;
  }
  /// @theta_gradient_with_noise of the model with `spec` and `stages`
  /// posterior stages.
  std::vector<double> thetaGradient(const std::string &spec, int64_t stages) {
    auto step = buildStep(modelText(spec));
    if (!step)
      return {};
    return flatten(
        call(*step, "theta_gradient_with_noise", inputs(stages).all()));
  }
  std::string implicitSpec(int64_t cgIterations, double damping) const {
    return kCommon + "hypergradient = \"implicit\", cg_iterations = " +
           std::to_string(cgIterations) + ", cg_damping = " + number(damping);
  }
  std::vector<double> implicitGradient(int64_t cgIterations, double damping) {
    return thetaGradient(implicitSpec(cgIterations, damping), 1);
  }
  /// The cg_residual metric of @train_step_with_noise.
  double cgResidual(int64_t cgIterations, double damping) {
    auto step = buildStep(modelText(implicitSpec(cgIterations, damping)));
    if (!step)
      return NAN;
    std::vector<HostTensor> r =
        call(*step, "train_step_with_noise", inputs(1).all());
    // The state (θ, φ, their two moments each, two step counts), J,
    // lower_before, lower_after, grad_norm_theta, cg_residual.
    size_t expected = 3 * (in.theta.size() + in.phi.size()) + 2 + 5;
    EXPECT_EQ(r.size(), expected);
    return r.size() == expected ? r.back().elementAsDouble(0) : NAN;
  }
};

/// The GRBM at the exact posterior A = W, d = c.
Problem &grbm() {
  static Problem p = [] {
    Problem p;
    p.name = "grbm";
    p.modelText = [](const std::string &spec) {
      return grbmModel(spec, kTemperature);
    };
    Grbm model = Grbm::random(D, H, 61);
    p.in = grbmInputs(model, /*stages=*/1, false, 610);
    p.in.phi = {model.w, model.c};
    p.perStage = 2;
    p.prepare(/*newton=*/false);
    return p;
  }();
  return p;
}

/// The Gaussian-latent model at the minimum φ* of G.
Problem &gaussian() {
  static Problem p = [] {
    Problem p;
    p.name = "gauss";
    p.modelText = [](const std::string &spec) { return gaussianModel(spec); };
    p.in = gaussianInputs(/*stages=*/1, 620);
    p.perStage = 1;
    p.prepare(/*newton=*/true);
    return p;
  }();
  return p;
}

// (a) CG with enough iterations (40 for 12 or 16 unknowns) against the
// dense solve; 2 iterations leave it visibly unsolved. The GRBM's H is
// indefinite at the exact posterior, so it is solved damped only.
TEST(Hypergradient, ImplicitGradientMatchesDenseSolve) {
  struct Case {
    Problem &problem;
    double damping;
  };
  for (Case c : {Case{grbm(), 0.3}, Case{grbm(), 1.0}, Case{gaussian(), 0.0},
                 Case{gaussian(), 0.3}}) {
    Problem &p = c.problem;
    ASSERT_TRUE(p.jit);
    SCOPED_TRACE(p.name + ", damping " + number(c.damping));
    std::printf("%s: H eigenvalues %.4g ... %.4g\n", p.name.c_str(),
                p.eigenvalues.front(), p.eigenvalues.back());
    ASSERT_GT(p.eigenvalues.front() + c.damping, 1e-3);
    std::vector<double> dense = p.denseImplicitGradient(c.damping);
    std::vector<double> cg = p.implicitGradient(40, c.damping);
    ASSERT_EQ(cg.size(), dense.size());
    double error = relativeDistance(cg, dense);
    std::printf("%s, damping %.2g: |cg - dense| / |dense| = %.3g\n",
                p.name.c_str(), c.damping, error);
    EXPECT_LT(error, 1e-8);
    EXPECT_GT(relativeDistance(p.implicitGradient(2, c.damping), dense), 1e-4)
        << "2 CG iterations do not solve the system";
    // The hypergradient term matters: ∂J/∂θ alone is far from it.
    EXPECT_GT(relativeDistance(p.thetaGradient(kCommon + "unroll_steps = 0", 1),
                               dense),
              1e-2);
  }
}

// (b) The unrolled gradient through N plain SGD steps of size α from φ*
// has the error Mᵀ (I − αH)^N H⁻¹ ∂J/∂φ, which falls like ρ^N with
// ρ = max |1 − αλ| over H's eigenvalues λ; α = 2/(λmin + λmax) gives the
// least ρ = (κ − 1)/(κ + 1). Between N and 2N the error must shrink at
// least as ρ^N predicts (up to a factor 2), and reach 1e-6 at N = 160.
TEST(Hypergradient, UnrolledGradientConvergesToImplicit) {
  Problem &p = gaussian();
  ASSERT_TRUE(p.jit);
  EXPECT_LT(norm(p.phiGradient(flatten(p.in.theta), flatten(p.in.phi))), 1e-12)
      << "φ* is a fixed point";
  ASSERT_GT(p.eigenvalues.front(), 0.0) << "φ* is a strict minimum";
  double lowest = p.eigenvalues.front(), highest = p.eigenvalues.back();
  double alpha = 2.0 / (lowest + highest);
  double rate = (highest - lowest) / (highest + lowest);
  std::vector<double> implicit = p.implicitGradient(40, 0.0);
  double previous = INFINITY;
  int64_t previousN = 0;
  for (int64_t n : {20, 40, 80, 160}) {
    std::vector<double> unrolled = p.thetaGradient(
        kCommon + "unroll_steps = " + std::to_string(n) +
            ", unroll_lr = " + number(alpha),
        n + 1);
    ASSERT_EQ(unrolled.size(), implicit.size());
    double error = relativeDistance(unrolled, implicit);
    std::printf("N = %3lld: |unrolled - implicit| / |implicit| = %.3g "
                "(rho^N = %.3g)\n",
                (long long)n, error, std::pow(rate, double(n)));
    if (previousN)
      EXPECT_LT(error, 2 * previous * std::pow(rate, double(n - previousN)))
          << "N = " << n;
    previous = error;
    previousN = n;
  }
  EXPECT_LT(previous, 1e-6) << "N = 160";
}

// (c) cg_residual: tiny once solved, large after one iteration.
TEST(Hypergradient, CgResidualMetric) {
  struct Case {
    Problem &problem;
    double damping;
  };
  for (Case c : {Case{grbm(), 0.3}, Case{gaussian(), 0.0}}) {
    Problem &p = c.problem;
    ASSERT_TRUE(p.jit);
    double solved = p.cgResidual(40, c.damping), one = p.cgResidual(1, c.damping);
    std::printf("%s: cg_residual 1 iteration %.3g, 40 iterations %.3g\n",
                p.name.c_str(), one, solved);
    EXPECT_LT(solved, 1e-10) << p.name;
    EXPECT_GT(one, 1e-3) << p.name;
  }
}

} // namespace
} // namespace bism::trainstep
