//===- TensorTextTest.cpp - --input literals and the memory budget --------===//
#include "bism/runtime/TensorText.h"

#include <gtest/gtest.h>

using namespace bism::runtime;

namespace {

/// Restores the default budget when a test that sets one ends.
struct BudgetGuard {
  ~BudgetGuard() { setMemoryBudget(0); }
};

TEST(TensorText, ParsesAndPrintsLiterals) {
  HostTensor tensor;
  std::string error;
  ASSERT_TRUE(parseTensorLiteral("2x3xf32=[1 2 3][4 5 6]", tensor, error))
      << error;
  EXPECT_EQ(tensor.typeString(), "2x3xf32");
  EXPECT_EQ(tensor.dataAs<float>()[5], 6.0f);
  EXPECT_EQ(formatTensor(tensor), "2x3xf32=[1 2 3][4 5 6]");

  ASSERT_TRUE(parseTensorLiteral("3xi32=7", tensor, error)) << error;
  EXPECT_EQ(formatTensor(tensor), "3xi32=7 7 7"); // one value fills
  ASSERT_TRUE(parseTensorLiteral("f64=2.5", tensor, error)) << error;
  EXPECT_EQ(formatTensor(tensor), "f64=2.5");
  ASSERT_TRUE(parseTensorLiteral("2xi1=true,0", tensor, error)) << error;
  EXPECT_EQ(formatTensor(tensor), "2xi1=1 0");
}

// Found by fuzz-tensor-text: no elements, but 1e12 rows of nothing were
// printed as "[]" each (a timeout and gigabytes of text).
TEST(TensorText, EmptyTensorsPrintNoValues) {
  HostTensor tensor;
  std::string error;
  ASSERT_TRUE(parseTensorLiteral("1114666666066x0x3xf64=", tensor, error))
      << error;
  EXPECT_EQ(formatTensor(tensor), "1114666666066x0x3xf64=");
}

TEST(TensorText, RefusesBadLiteralsWithAReason) {
  HostTensor tensor;
  std::string error;
  const std::pair<const char *, const char *> cases[] = {
      {"2x3xf32", "expected \"SHAPExTYPE=VALUES\""},
      {"2xf16=1", "unknown element type 'f16'"},
      {"2x-3xf32=1", "bad dimension '-3'"},
      {"2x3xf32=1 2", "expected 6 values (or one to fill) for 2x3xf32, got 2"},
      {"2xi32=1 x", "'x' is not an integer"},
      {"xi32=1", "bad dimension ''"},
      {"99999999999999999999xf32=1", "bad dimension"},
      {"i32=4294967296", "out of range for i32"},
  };
  for (auto [text, expected] : cases) {
    EXPECT_FALSE(parseTensorLiteral(text, tensor, error)) << text;
    EXPECT_NE(error.find(expected), std::string::npos)
        << text << " gave: " << error;
  }
}

// These sizes wrapped to a 0-byte count in 64 bits and were written past a
// 64-byte buffer (AddressSanitizer: heap-buffer-overflow; this test runs in
// the sanitizer build too). Now they are refused before allocating.
TEST(TensorText, WrappingSizesAreRefusedNotAllocated) {
  HostTensor tensor;
  std::string error;
  for (const char *text :
       {"4611686018427387904xf32=1", "9223372036854775807xf32=1",
        "4294967296x4294967296x4xf32=1", "4294967296x4294967296xi1=1"}) {
    EXPECT_FALSE(parseTensorLiteral(text, tensor, error)) << text;
    EXPECT_NE(error.find("more than 2^63 bytes"), std::string::npos)
        << text << " gave: " << error;
  }
}

TEST(TensorText, SizesBeyondTheMemoryBudgetAreRefused) {
  BudgetGuard guard;
  setMemoryBudget(1 << 20);
  HostTensor tensor;
  std::string error;
  EXPECT_TRUE(parseTensorLiteral("512x512xf32=1", tensor, error)) << error;
  EXPECT_FALSE(parseTensorLiteral("512x513xf32=1", tensor, error));
  EXPECT_EQ(error, "512x513xf32 needs 1050624 bytes, more than the memory "
                   "budget of 1048576 bytes (set by --max-memory)");
  // The abort of the past: 800 GB allocated before any check.
  setMemoryBudget(0);
  EXPECT_FALSE(parseTensorLiteral("100000000000x2xf32=1", tensor, error));
  EXPECT_NE(error.find("needs 800000000000 bytes, more than the memory "
                       "budget"),
            std::string::npos)
      << error;
}

TEST(TensorText, MemorySizes) {
  uint64_t bytes = 0;
  std::string error;
  ASSERT_TRUE(parseMemorySize("512M", bytes, error)) << error;
  EXPECT_EQ(bytes, uint64_t(512) << 20);
  ASSERT_TRUE(parseMemorySize("2G", bytes, error)) << error;
  EXPECT_EQ(bytes, uint64_t(2) << 30);
  ASSERT_TRUE(parseMemorySize("1000", bytes, error)) << error;
  EXPECT_EQ(bytes, 1000u);
  ASSERT_TRUE(parseMemorySize("50%", bytes, error)) << error;
  EXPECT_EQ(bytes, physicalMemoryBytes() / 2);
  EXPECT_EQ(memoryBudget(), physicalMemoryBytes() / 4 * 3);
  for (const char *bad : {"", "-1", "0", "12X", "150%", "G", "1e30"}) {
    EXPECT_FALSE(parseMemorySize(bad, bytes, error)) << bad;
    EXPECT_NE(error.find("bad memory size"), std::string::npos) << bad;
  }
}

} // namespace
