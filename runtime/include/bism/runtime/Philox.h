//===- Philox.h - counter-based random numbers (reference) ------*- C++ -*-===//
//
// Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
// 3", SC'11) and the exact float conversions the bism random ops use. The
// compiler's lowering of bism.random_* emits the same arithmetic, so this
// header is the specification every backend is tested against.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_RUNTIME_PHILOX_H
#define BISM_RUNTIME_PHILOX_H

#include "bism/runtime/DrawMath.h"

#include <array>
#include <cmath>
#include <cstdint>

namespace bism::runtime {

using PhiloxKey = std::array<uint32_t, 2>;
using PhiloxCounter = std::array<uint32_t, 4>;

constexpr uint32_t kPhiloxMultiplier0 = 0xD2511F53u;
constexpr uint32_t kPhiloxMultiplier1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxWeyl0 = 0x9E3779B9u;
constexpr uint32_t kPhiloxWeyl1 = 0xBB67AE85u;
/// Word 3 of the counter for bism.key_split, so derived keys never reuse a
/// counter of a draw (draws keep word 3 at 0).
constexpr uint32_t kKeySplitTag = 0x6b657973u; // "keys"

inline PhiloxCounter philox4x32(PhiloxCounter counter, PhiloxKey key) {
  for (int round = 0; round < 10; ++round) {
    uint64_t product0 = uint64_t(kPhiloxMultiplier0) * counter[0];
    uint64_t product1 = uint64_t(kPhiloxMultiplier1) * counter[2];
    uint32_t hi0 = uint32_t(product0 >> 32), lo0 = uint32_t(product0);
    uint32_t hi1 = uint32_t(product1 >> 32), lo1 = uint32_t(product1);
    counter = {hi1 ^ counter[1] ^ key[0], lo1, hi0 ^ counter[3] ^ key[1], lo0};
    key = {key[0] + kPhiloxWeyl0, key[1] + kPhiloxWeyl1};
  }
  return counter;
}

/// The four words of counter (index lo, index hi, 0, 0): element `index` of
/// a host-side stream that gives each element a counter of its own (data
/// sets, parameter initialisation, evaluation noise).
inline PhiloxCounter philoxWordsForElement(PhiloxKey key, uint64_t index) {
  return philox4x32({uint32_t(index), uint32_t(index >> 32), 0u, 0u}, key);
}

enum class DrawKind { Uniform, Normal, Gumbel, Rademacher };

/// The words of the Philox stream one element of a bism.random_* draw
/// consumes: 1 (f32 uniform and gumbel, rademacher), 2 (f32 normal, f64
/// uniform and gumbel) or 4 (f64 normal).
constexpr int drawWordsPerElement(DrawKind kind, bool f32) {
  switch (kind) {
  case DrawKind::Normal:
    return f32 ? 2 : 4;
  case DrawKind::Rademacher:
    return 1;
  default:
    return f32 ? 1 : 2;
  }
}

/// The words of element `index` of a bism.random_* draw, first in the
/// result (the rest unspecified). A draw reads the words of counters
/// (0, 0, 0, 0), (1, 0, 0, 0), ... in order, each element taking
/// `wordsPerElement` of them: element i of a one-word draw is word i mod 4
/// of counter i / 4, so one Philox evaluation serves 4 elements (2 of a
/// two-word draw).
inline PhiloxCounter wordsForDrawElement(PhiloxKey key, uint64_t index,
                                         int wordsPerElement) {
  uint64_t perCounter = uint64_t(4 / wordsPerElement);
  PhiloxCounter words = philoxWordsForElement(key, index / perCounter);
  int first = int(index % perCounter) * wordsPerElement;
  PhiloxCounter own = words;
  for (int j = 0; j < wordsPerElement; ++j)
    own[size_t(j)] = words[size_t(first + j)];
  return own;
}

inline PhiloxKey keySplit(PhiloxKey key, uint64_t index) {
  PhiloxCounter words =
      philox4x32({uint32_t(index), uint32_t(index >> 32), 0u, kKeySplitTag}, key);
  return {words[0], words[1]};
}

// Conversions (w = the element's words, wordsForDrawElement):
//   f32 uniform [0,1):  (w0 >> 8) * 2^-24
//   f64 uniform [0,1):  ((w0 << 21) ^ (w1 >> 11) as 53 bits) * 2^-53,
//                       i.e. ((uint64(w0) << 32 | w1) >> 11) * 2^-53
//   open (0,1) for logs: (bits + 0.5) * 2^-24 / 2^-53
//   normal: Box-Muller sqrt(-2 log u1) * cos(2 pi u2), u1 open, u2 [0,1);
//           f32 takes u1 from w0, u2 from w1; f64 u1 from (w0,w1), u2 from (w2,w3)
//   gumbel: -log(-log(u)), u open
// f32 log and cos(2 pi u) are DrawMath.h's polynomials (vectorisable, same in
// compiled code); f64 uses libm.
//   rademacher: (w0 & 1) ? +1 : -1

inline uint64_t bits53(uint32_t high, uint32_t low) {
  return ((uint64_t(high) << 32) | low) >> 11;
}

template <typename T> T uniformFromWords(const PhiloxCounter &w);
template <> inline float uniformFromWords<float>(const PhiloxCounter &w) {
  return float(w[0] >> 8) * 0x1p-24f;
}
template <> inline double uniformFromWords<double>(const PhiloxCounter &w) {
  return double(bits53(w[0], w[1])) * 0x1p-53;
}

template <typename T> T openUniformFromWords(const PhiloxCounter &w, int pair);
template <>
inline float openUniformFromWords<float>(const PhiloxCounter &w, int word) {
  return (float(w[word] >> 8) + 0.5f) * 0x1p-24f;
}
template <>
inline double openUniformFromWords<double>(const PhiloxCounter &w, int pair) {
  return (double(bits53(w[2 * pair], w[2 * pair + 1])) + 0.5) * 0x1p-53;
}

template <typename T> T normalFromWords(const PhiloxCounter &w);
template <> inline float normalFromWords<float>(const PhiloxCounter &w) {
  float u1 = openUniformFromWords<float>(w, 0);
  float u2 = float(w[1] >> 8) * 0x1p-24f;
  return std::sqrt(-2.0f * drawLog(u1)) * drawCos2Pi(u2);
}
template <> inline double normalFromWords<double>(const PhiloxCounter &w) {
  constexpr double twoPi = 6.283185307179586476925286766559;
  double u1 = openUniformFromWords<double>(w, 0);
  double u2 = double(bits53(w[2], w[3])) * 0x1p-53;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(twoPi * u2);
}

template <typename T> T gumbelFromWords(const PhiloxCounter &w);
template <> inline float gumbelFromWords<float>(const PhiloxCounter &w) {
  float u = openUniformFromWords<float>(w, 0);
  return -drawLog(-drawLog(u));
}
template <> inline double gumbelFromWords<double>(const PhiloxCounter &w) {
  double u = openUniformFromWords<double>(w, 0);
  return -std::log(-std::log(u));
}

template <typename T> T rademacherFromWords(const PhiloxCounter &w) {
  return (w[0] & 1u) ? T(1) : T(-1);
}

} // namespace bism::runtime

#endif // BISM_RUNTIME_PHILOX_H
