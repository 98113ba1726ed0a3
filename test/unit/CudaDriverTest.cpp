//===- CudaDriverTest.cpp - loading the CUDA driver at run time -----------===//
//
// Without a GPU (CI, this project's development machines) the driver cannot
// be loaded: CUDA reports itself unavailable with the reason, and nothing
// crashes. With one, the driver lists it.
//
//===----------------------------------------------------------------------===//
#include "bism/runtime/CudaDriver.h"

#include <gtest/gtest.h>

using namespace bism::runtime;

TEST(CudaDriver, SaysWhyItIsUnavailableOrListsTheDevices) {
  std::string reason = cuda::unavailableReason();
  std::string error;
  std::vector<cuda::DeviceInfo> found = cuda::devices(error);
  if (!reason.empty()) {
    // The reason names what is missing, the same on every call.
    EXPECT_EQ(reason.rfind("no CUDA device: ", 0), 0u) << reason;
    EXPECT_EQ(cuda::unavailableReason(), reason);
    EXPECT_TRUE(found.empty());
    EXPECT_EQ(error, reason);
    GTEST_SKIP() << "no GPU here: " << reason;
  }
  ASSERT_EQ(error, "");
  ASSERT_FALSE(found.empty());
  for (const cuda::DeviceInfo &device : found) {
    EXPECT_FALSE(device.name.empty());
    EXPECT_GE(device.computeMajor, 5) << device.name;
    EXPECT_GT(device.memoryBytes, size_t(1) << 30) << device.name;
  }
}
