//===- HostTensorTest.cpp - HostTensor and .npy files ---------------------===//
#include "bism/runtime/HostTensor.h"
#include "bism/runtime/Npy.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <cstdlib>
#include <sys/stat.h>
#include <unistd.h>

#include "TempFiles.h"

using namespace bism::runtime;

namespace {

using bism::test::fileExists;
using bism::test::tempPath;

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// A .npy v1.0 image with the given header dict and payload.
std::string npyImage(const std::string &dict, const std::string &payload,
                     int major = 1) {
  std::string header = dict;
  size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64)
    header += ' ';
  header += '\n';
  std::string out("\x93NUMPY", 6);
  out += char(major);
  out += char(0);
  out += char(header.size() & 0xff);
  out += char(header.size() >> 8);
  if (major != 1) {
    out += '\0';
    out += '\0';
  }
  return out + header + payload;
}

} // namespace

TEST(HostTensor, CheckedByteSizeRefusesWrappedAndNegativeSizes) {
  uint64_t bytes = 0;
  EXPECT_TRUE(checkedByteSize({2, 3}, ElementType::f32, bytes));
  EXPECT_EQ(bytes, 24u);
  EXPECT_TRUE(checkedByteSize({}, ElementType::f64, bytes));
  EXPECT_EQ(bytes, 8u);
  EXPECT_TRUE(checkedByteSize({0, int64_t(1) << 62}, ElementType::f64, bytes));
  EXPECT_EQ(bytes, 0u);
  // 2^62 f32 elements wrap to 0 bytes in 64 bits; 2^32 x 2^32 x 4 to 0 too.
  EXPECT_FALSE(checkedByteSize({int64_t(1) << 62}, ElementType::f32, bytes));
  EXPECT_FALSE(checkedByteSize({int64_t(1) << 32, int64_t(1) << 32, 4},
                               ElementType::f32, bytes));
  EXPECT_TRUE(checkedByteSize({INT64_MAX}, ElementType::i1, bytes));
  EXPECT_EQ(bytes, uint64_t(INT64_MAX));
  EXPECT_FALSE(checkedByteSize({INT64_MAX, 2}, ElementType::i1, bytes));
  EXPECT_FALSE(checkedByteSize({3, -1}, ElementType::f32, bytes));
}

TEST(HostTensor, ElementTypes) {
  EXPECT_EQ(elementSize(ElementType::f32), 4u);
  EXPECT_EQ(elementSize(ElementType::f64), 8u);
  EXPECT_EQ(elementSize(ElementType::i1), 1u);
  EXPECT_EQ(elementSize(ElementType::i32), 4u);
  EXPECT_EQ(elementSize(ElementType::i64), 8u);
  for (ElementType t : {ElementType::f32, ElementType::f64, ElementType::i1,
                        ElementType::i32, ElementType::i64}) {
    ElementType parsed;
    ASSERT_TRUE(parseElementType(elementTypeName(t), parsed));
    EXPECT_EQ(parsed, t);
  }
  ElementType dummy;
  EXPECT_FALSE(parseElementType("bf16", dummy));
  EXPECT_FALSE(parseElementType("", dummy));
}

TEST(HostTensor, ZeroFilledAndAligned) {
  HostTensor t(ElementType::f32, {3, 5});
  EXPECT_EQ(t.rank(), 2);
  EXPECT_EQ(t.numElements(), 15);
  EXPECT_EQ(t.byteSize(), 60u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data()) % 64, 0u);
  for (int64_t i = 0; i < t.numElements(); ++i)
    EXPECT_EQ(t.dataAs<float>()[i], 0.0f);
  EXPECT_EQ(t.strides(), (std::vector<int64_t>{5, 1}));
  EXPECT_EQ(t.typeString(), "3x5xf32");
}

TEST(HostTensor, RankZeroAndEmpty) {
  HostTensor scalar(ElementType::f64, {});
  EXPECT_EQ(scalar.numElements(), 1);
  EXPECT_EQ(scalar.typeString(), "f64");
  ASSERT_NE(scalar.data(), nullptr);
  EXPECT_EQ(scalar.dataAs<double>()[0], 0.0);

  HostTensor empty(ElementType::i32, {0, 4});
  EXPECT_EQ(empty.numElements(), 0);
  EXPECT_EQ(empty.byteSize(), 0u);
  EXPECT_NE(empty.data(), nullptr);
  EXPECT_EQ(empty.typeString(), "0x4xi32");
}

TEST(HostTensor, CopyIsDeep) {
  HostTensor a = HostTensor::fromVector<int64_t>({2, 2}, {1, 2, 3, 4});
  HostTensor b = a;
  b.dataAs<int64_t>()[0] = 42;
  EXPECT_EQ(a.dataAs<int64_t>()[0], 1);
  EXPECT_EQ(b.dataAs<int64_t>()[0], 42);
  EXPECT_NE(a.data(), b.data());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % 64, 0u);

  HostTensor c(ElementType::f32, {7});
  c = a;
  EXPECT_EQ(c.typeString(), "2x2xi64");
  EXPECT_EQ(c.dataAs<int64_t>()[3], 4);
  HostTensor &alias = c;
  c = alias; // self-assignment keeps the data
  EXPECT_EQ(c.dataAs<int64_t>()[3], 4);

  HostTensor moved = std::move(c);
  EXPECT_EQ(moved.dataAs<int64_t>()[2], 3);
}

TEST(HostTensor, ElementAsDouble) {
  HostTensor b = HostTensor::fromVector<bool>({3}, {true, false, true});
  EXPECT_EQ(b.elementAsDouble(0), 1.0);
  EXPECT_EQ(b.elementAsDouble(1), 0.0);
  HostTensor i = HostTensor::fromVector<int32_t>({2}, {-3, 7});
  EXPECT_EQ(i.elementAsDouble(0), -3.0);
  HostTensor f = HostTensor::fromVector<float>({1}, {2.5f});
  EXPECT_EQ(f.elementAsDouble(0), 2.5);
}

TEST(HostTensorDeathTest, WrongTypedAccessAborts) {
  HostTensor t(ElementType::f32, {2});
  EXPECT_DEATH((void)t.dataAs<double>(), "accessed as f64");
}

TEST(Npy, RoundTripAllTypes) {
  std::vector<HostTensor> tensors;
  tensors.push_back(HostTensor::fromVector<float>({2, 3}, {1, 2, 3, 4, 5, 6.5f}));
  tensors.push_back(HostTensor::fromVector<double>({4}, {0.1, -2, 3e300, 4}));
  tensors.push_back(HostTensor::fromVector<bool>({2, 1}, {true, false}));
  tensors.push_back(HostTensor::fromVector<int32_t>({}, {-7}));
  tensors.push_back(HostTensor::fromVector<int64_t>({1, 2, 2}, {1, 2, 3, 1ll << 40}));
  tensors.push_back(HostTensor(ElementType::f32, {0, 3}));
  for (size_t n = 0; n < tensors.size(); ++n) {
    const HostTensor &t = tensors[n];
    std::string path = tempPath("roundtrip" + std::to_string(n) + ".npy");
    std::string error;
    ASSERT_TRUE(writeNpy(path, t, error)) << error;
    EXPECT_FALSE(fileExists(path + ".tmp"));
    std::string image = readFile(path);
    // Header padded so the data is 64-byte aligned, as numpy does.
    EXPECT_EQ((image.size() - t.byteSize()) % 64, 0u);
    HostTensor back;
    ASSERT_TRUE(readNpy(path, back, error)) << error;
    EXPECT_EQ(back.typeString(), t.typeString());
    for (int64_t i = 0; i < t.numElements(); ++i)
      EXPECT_EQ(back.elementAsDouble(i), t.elementAsDouble(i));
    std::remove(path.c_str());
  }
}

TEST(Npy, HeaderMatchesNumpy) {
  HostTensor t = HostTensor::fromVector<float>({3}, {1, 2, 3});
  std::string image = encodeNpy(t);
  EXPECT_EQ(image.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_NE(image.find("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"),
            std::string::npos);
  HostTensor m(ElementType::i64, {2, 5});
  EXPECT_NE(encodeNpy(m).find("'shape': (2, 5), }"), std::string::npos);
  HostTensor s(ElementType::i1, {});
  EXPECT_NE(encodeNpy(s).find("{'descr': '|b1', 'fortran_order': False, 'shape': (), }"),
            std::string::npos);
}

TEST(Npy, ParsesNumpyStyleHeaders) {
  // As numpy 1.x writes them, and a version 2.0 file.
  float values[4] = {1, 2, 3, 4};
  std::string payload(reinterpret_cast<char *>(values), sizeof(values));
  HostTensor t;
  std::string error;
  std::string v1 = npyImage(
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", payload);
  ASSERT_TRUE(parseNpy(v1.data(), v1.size(), "v1", t, error)) << error;
  EXPECT_EQ(t.typeString(), "2x2xf32");
  EXPECT_EQ(t.dataAs<float>()[3], 4.0f);

  std::string v2 = npyImage(
      "{\"shape\": (4,), \"fortran_order\": False, \"descr\": \"<f4\"}",
      payload, 2);
  ASSERT_TRUE(parseNpy(v2.data(), v2.size(), "v2", t, error)) << error;
  EXPECT_EQ(t.typeString(), "4xf32");
}

TEST(Npy, RejectsUnsupportedFiles) {
  float values[4] = {1, 2, 3, 4};
  std::string payload(reinterpret_cast<char *>(values), sizeof(values));
  HostTensor t = HostTensor::fromVector<int32_t>({1}, {5});
  std::string error;

  std::string fortran = npyImage(
      "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", payload);
  EXPECT_FALSE(parseNpy(fortran.data(), fortran.size(), "f.npy", t, error));
  EXPECT_NE(error.find("'f.npy'"), std::string::npos) << error;
  EXPECT_NE(error.find("Fortran"), std::string::npos) << error;
  // The tensor is left unchanged on failure.
  EXPECT_EQ(t.typeString(), "1xi32");

  std::string bigEndian = npyImage(
      "{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }", payload);
  EXPECT_FALSE(parseNpy(bigEndian.data(), bigEndian.size(), "b.npy", t, error));
  EXPECT_NE(error.find("unsupported dtype '>f4'"), std::string::npos) << error;

  std::string f16 = npyImage(
      "{'descr': '<f2', 'fortran_order': False, 'shape': (8,), }", payload);
  EXPECT_FALSE(parseNpy(f16.data(), f16.size(), "h.npy", t, error));
  EXPECT_NE(error.find("'<f2'"), std::string::npos) << error;

  std::string truncated = npyImage(
      "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", payload);
  EXPECT_FALSE(parseNpy(truncated.data(), truncated.size(), "t.npy", t, error));
  EXPECT_NE(error.find("does not match"), std::string::npos) << error;

  std::string garbage = "hello world, not numpy";
  EXPECT_FALSE(parseNpy(garbage.data(), garbage.size(), "g.npy", t, error));
  EXPECT_NE(error.find("bad magic"), std::string::npos) << error;

  std::string badHeader = npyImage("{'descr': '<f4', 'shape': [4]}", payload);
  EXPECT_FALSE(parseNpy(badHeader.data(), badHeader.size(), "m.npy", t, error));
  EXPECT_NE(error.find("malformed header"), std::string::npos) << error;
}

TEST(Npy, MissingFileNamesThePath) {
  HostTensor t;
  std::string error;
  EXPECT_FALSE(readNpy("/nonexistent/dir/x.npy", t, error));
  EXPECT_NE(error.find("'/nonexistent/dir/x.npy'"), std::string::npos) << error;
}

TEST(Npy, FailedWriteLeavesNoFile) {
  HostTensor t = HostTensor::fromVector<float>({2}, {1, 2});
  std::string error;
  EXPECT_FALSE(writeNpy("/nonexistent/dir/x.npy", t, error));
  EXPECT_NE(error.find("/nonexistent/dir/x.npy"), std::string::npos) << error;
  EXPECT_FALSE(fileExists("/nonexistent/dir/x.npy.tmp"));

  // A write that fails does not touch an existing file.
  std::string path = tempPath("keep.npy");
  ASSERT_TRUE(writeNpy(path, t, error)) << error;
  std::string before = readFile(path);
  std::string tmpDir = path + ".tmp"; // a directory where the temp file goes
  ASSERT_EQ(::mkdir(tmpDir.c_str(), 0755), 0);
  EXPECT_FALSE(writeNpy(path, HostTensor(ElementType::f64, {100}), error));
  EXPECT_EQ(readFile(path), before);
  ::rmdir(tmpDir.c_str());
  std::remove(path.c_str());
}

TEST(Npy, FullDiskIsAnError) {
  // /dev/full fails every write with ENOSPC; writing "through" it is not
  // possible with a rename, so check the error path with a tmp symlink.
  if (!fileExists("/dev/full"))
    GTEST_SKIP() << "no /dev/full";
  std::string path = tempPath("full.npy");
  std::string tmp = path + ".tmp";
  ASSERT_EQ(::symlink("/dev/full", tmp.c_str()), 0);
  std::string error;
  EXPECT_FALSE(writeNpy(path, HostTensor(ElementType::f32, {1000}), error));
  EXPECT_NE(error.find("No space left on device"), std::string::npos) << error;
  EXPECT_FALSE(fileExists(path));
  ::unlink(tmp.c_str());
}
