//===- PhiloxTest.cpp - Philox-4x32-10 reference against known answers ----===//
#include "bism/runtime/Philox.h"

#include <gtest/gtest.h>

using namespace bism::runtime;

// Known-answer vectors of Random123 (kat_vectors, philox4x32_10).
TEST(Philox, KnownAnswers) {
  PhiloxCounter zero = philox4x32({0, 0, 0, 0}, {0, 0});
  EXPECT_EQ(zero, (PhiloxCounter{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
  PhiloxCounter ones = philox4x32({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
                                  {0xffffffffu, 0xffffffffu});
  EXPECT_EQ(ones, (PhiloxCounter{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}));
  PhiloxCounter pi = philox4x32({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
                                {0xa4093822u, 0x299f31d0u});
  EXPECT_EQ(pi, (PhiloxCounter{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}));
}

TEST(Philox, KeySplitDiffersFromDraws) {
  PhiloxKey key{1, 2};
  PhiloxKey split = keySplit(key, 0);
  PhiloxCounter draw = philoxWordsForElement(key, 0);
  EXPECT_FALSE(split[0] == draw[0] && split[1] == draw[1]);
  EXPECT_NE(keySplit(key, 0), keySplit(key, 1));
}
