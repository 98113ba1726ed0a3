//===- DrawMath.h - the log and cos of the f32 random draws -----*- C++ -*-===//
//
// Branch-free polynomial log and cos(2 pi u) for the f32 normal and gumbel
// draws. libm calls would keep the compiled draw loops scalar, and a
// different libm (or a vector one) would break bit-exactness, so these are
// the specification: LowerToLinalg's emitDraw emits the same operations in
// the same order from the same constants, and Philox.h uses these functions.
//
// Every multiply-add is an explicit fma, and no plain + or - has a product
// as an operand, so no FP contraction setting (clang's "on", GCC's "fast")
// can fuse anything differently on either side.
//
// Accuracy (measured exhaustively in test/unit/DrawMathTest.cpp):
//   drawLog:     <= 1 ulp on the draws' open uniforms and on (0, 20]
//   drawCos2Pi:  <= 1 ulp on all 2^24 uniforms u (exact reduction, so the
//                error is relative also next to the zeros)
//
//===----------------------------------------------------------------------===//
#ifndef BISM_RUNTIME_DRAWMATH_H
#define BISM_RUNTIME_DRAWMATH_H

#include <cmath>
#include <cstdint>
#include <cstring>

namespace bism::runtime {

// log(x), x a positive normal float: x = 2^k m, m in [sqrt(1/2), sqrt(2)),
// log(x) = k ln2 + log(1 + f), f = m - 1 exact. Coefficients of
// log(1 + f) = f - f^2/2 + f^3 P(f): Cephes logf.c (S. L. Moshier).
/// Bits of float(sqrt(1/2)): x's bits minus these, shifted by 23, give k.
constexpr uint32_t kDrawLogSqrtHalfBits = 0x3f3504f3u;
constexpr float kDrawLogP[9] = {
    7.0376836292e-2f,  -1.1514610310e-1f, 1.1676998740e-1f,
    -1.2420140846e-1f, 1.4249322787e-1f,  -1.6668057665e-1f,
    2.0000714765e-1f,  -2.4999993993e-1f, 3.3333331174e-1f};
/// ln 2 = kDrawLn2Hi + kDrawLn2Lo; k * kDrawLn2Hi is exact (9-bit constant).
constexpr float kDrawLn2Hi = 0.693359375f;
constexpr float kDrawLn2Lo = -2.12194440e-4f;

// cos(2 pi u), u in [0, 1): reduced exactly (Sterbenz) to t in [0, 1/8] with
// cos(2 pi t) or sin(2 pi t) and a sign; the polynomials in x = 2 pi t on
// [0, pi/4] are Cephes sinf.c / cosf.c's.
/// 2 pi = kDrawTwoPiHi + kDrawTwoPiLo (so 2 pi t is formed to ~0.5 ulp).
constexpr float kDrawTwoPiHi = 6.28318548e+0f;
constexpr float kDrawTwoPiLo = -1.74845553e-7f;
/// sin(x) = x + x^3 S(x^2).
constexpr float kDrawSinS[3] = {-1.9515295891e-4f, 8.3321608736e-3f,
                                -1.6666654611e-1f};
/// cos(x) = 1 - x^2/2 + x^4 C(x^2).
constexpr float kDrawCosC[3] = {2.443315711809948e-5f, -1.388731625493765e-3f,
                                4.166664568298827e-2f};

inline uint32_t drawFloatBits(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits;
}

inline float drawBitsFloat(uint32_t bits) {
  float x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

/// log(x) for a positive normal float x (no zero, subnormal, inf or NaN).
inline float drawLog(float x) {
  uint32_t offset = drawFloatBits(x) - kDrawLogSqrtHalfBits;
  // Arithmetic shift: k < 0 below sqrt(1/2).
  int32_t k = int32_t(offset) >> 23;
  float m = drawBitsFloat(drawFloatBits(x) - (uint32_t(k) << 23));
  float f = m - 1.0f;
  float fk = float(k);
  float p = kDrawLogP[0];
  for (int i = 1; i < 9; ++i)
    p = std::fma(p, f, kDrawLogP[i]);
  float z = f * f;
  float y = f * (z * p);
  y = std::fma(fk, kDrawLn2Lo, y);
  y = std::fma(-0.5f * f, f, y);
  float r = f + y;
  return std::fma(fk, kDrawLn2Hi, r);
}

/// cos(2 pi u) for u in [0, 1).
inline float drawCos2Pi(float u) {
  float a = u > 0.5f ? 1.0f - u : u;   // cos(2 pi u) = cos(2 pi (1 - u))
  bool negate = a > 0.25f;             // = -cos(2 pi (1/2 - a))
  float b = negate ? 0.5f - a : a;
  bool useSin = b > 0.125f;            // = sin(2 pi (1/4 - b))
  float t = useSin ? 0.25f - b : b;    // t in [0, 1/8], all exact
  float x = std::fma(t, kDrawTwoPiHi, t * kDrawTwoPiLo);
  float z = x * x;
  // sin: 2 pi t + x^3 S(z), the leading product kept exact inside the fmas.
  float s = std::fma(std::fma(kDrawSinS[0], z, kDrawSinS[1]), z, kDrawSinS[2]);
  float sinValue =
      std::fma(t, kDrawTwoPiHi, std::fma(t, kDrawTwoPiLo, (x * z) * s));
  // cos: 1 + (z^2 C(z) - x^2/2), with x^2 = (x + xLow)^2 to first order:
  // z's rounding alone would cost ~0.6 ulp next to pi/4.
  float xLow = std::fma(t, kDrawTwoPiLo, std::fma(t, kDrawTwoPiHi, -x));
  float c = std::fma(std::fma(kDrawCosC[0], z, kDrawCosC[1]), z, kDrawCosC[2]);
  float tail = std::fma(z * z, c, -(x * xLow));
  float cosValue = 1.0f + std::fma(-0.5f * x, x, tail);
  float value = useSin ? sinValue : cosValue;
  return negate ? -value : value;
}

} // namespace bism::runtime

#endif // BISM_RUNTIME_DRAWMATH_H
