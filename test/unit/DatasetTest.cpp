//===- DatasetTest.cpp - data sets, shuffling and minibatches -------------===//
#include "bism/runtime/Dataset.h"
#include "bism/runtime/Npy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

using namespace bism::runtime;

namespace {

/// A fresh directory under $TMPDIR, removed (with its files) at scope exit.
class TempDir {
public:
  TempDir() {
    const char *base = std::getenv("TMPDIR");
    std::string pattern = std::string(base ? base : "/tmp") + "/bism-data-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    path_ = ::mkdtemp(buffer.data()) ? buffer.data() : "";
  }
  ~TempDir() {
    for (const std::string &file : files_)
      std::remove(file.c_str());
    for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it)
      ::rmdir(it->c_str());
    ::rmdir(path_.c_str());
  }
  /// The path of `name` inside the directory, deleted at scope exit.
  std::string file(const std::string &name) {
    files_.push_back(path_ + "/" + name);
    return files_.back();
  }
  std::string subdir(const std::string &name) {
    dirs_.push_back(path_ + "/" + name);
    ::mkdir(dirs_.back().c_str(), 0755);
    return dirs_.back();
  }
  const std::string &path() const { return path_; }

private:
  std::string path_;
  std::vector<std::string> files_, dirs_;
};

void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

/// A .npy v1.0 image with any descr (writeNpy has no uint8).
std::string npyImage(const std::string &descr, const std::string &shape,
                     const std::string &payload) {
  std::string header = "{'descr': '" + descr +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64)
    header += ' ';
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += char(header.size() & 0xff);
  out += char(header.size() >> 8);
  return out + header + payload;
}

std::string idxImage(uint8_t type, const std::vector<uint32_t> &dims,
                     const std::string &payload) {
  std::string out{'\0', '\0', char(type), char(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8)
      out += char((d >> shift) & 0xff);
  return out + payload;
}

void writeGzip(const std::string &path, const std::string &bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr) << path;
  ASSERT_EQ(gzwrite(file, bytes.data(), unsigned(bytes.size())),
            int(bytes.size()));
  ASSERT_EQ(gzclose(file), Z_OK);
}

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

bool sameData(const HostTensor &a, const HostTensor &b) {
  return a.shape() == b.shape() && a.elementType() == b.elementType() &&
         std::memcmp(a.data(), b.data(), a.byteSize()) == 0;
}

double mean(const HostTensor &t) {
  const double *p = t.dataAs<double>();
  double sum = 0;
  for (int64_t i = 0; i < t.numElements(); ++i)
    sum += p[i];
  return sum / double(t.numElements());
}

} // namespace

TEST(Checkerboard, SameSeedSameData) {
  DatasetOptions options;
  options.seed = 7;
  options.generatedTrain = 1000;
  options.generatedValidation = 100;
  options.generatedTest = 200;
  Dataset a, b, c;
  std::string error;
  ASSERT_TRUE(loadDataset("checkerboard", options, a, error)) << error;
  ASSERT_TRUE(loadDataset("checkerboard", options, b, error)) << error;
  options.seed = 8;
  ASSERT_TRUE(loadDataset("checkerboard", options, c, error)) << error;
  EXPECT_EQ(a.train.typeString(), "1000x2xf64");
  EXPECT_EQ(a.validation.typeString(), "100x2xf64");
  EXPECT_EQ(a.test.typeString(), "200x2xf64");
  EXPECT_TRUE(a.imageShape.empty());
  EXPECT_TRUE(sameData(a.train, b.train));
  EXPECT_TRUE(sameData(a.test, b.test));
  EXPECT_FALSE(sameData(a.train, c.train));
  // The splits are independent streams, not prefixes of one another.
  EXPECT_NE(a.train.dataAs<double>()[0], a.test.dataAs<double>()[0]);
  // The generator is the documented function of (seed, split, index).
  EXPECT_TRUE(sameData(generateCheckerboard(7, 2, 200), a.test));
  HostTensor longer = generateCheckerboard(7, 0, 2000);
  EXPECT_EQ(std::memcmp(longer.data(), a.train.data(), a.train.byteSize()), 0);
}

/// Every point in [0,1)^2 and in an even cell of the g x g grid; the cells
/// equally likely (chi-square) and uniform inside (mean offset).
void expectEvenCellsUniform(const HostTensor &points, int g) {
  const double *p = points.dataAs<double>();
  int64_t n = points.shape()[0];
  std::map<int, int64_t> cells;
  double offsetSum[2] = {0, 0};
  for (int64_t r = 0; r < n; ++r) {
    double x = p[2 * r], y = p[2 * r + 1];
    ASSERT_TRUE(x >= 0 && x < 1 && y >= 0 && y < 1) << r;
    int j = int(x * g), i = int(y * g);
    ASSERT_EQ((i + j) % 2, 0) << "point " << r << " (" << x << ", " << y << ")";
    ++cells[i * g + j];
    offsetSum[0] += x * g - j;
    offsetSum[1] += y * g - i;
  }
  ASSERT_EQ(cells.size(), size_t(g * g / 2));
  // Chi-square, P(> bound) = 0.001: 1 degree of freedom 10.83, 7: 24.3.
  double expected = double(n) / double(cells.size()), chi2 = 0;
  for (auto &[cell, count] : cells)
    chi2 += (count - expected) * (count - expected) / expected;
  EXPECT_LT(chi2, g == 2 ? 10.83 : 24.3);
  // Uniform inside a cell: mean offset 1/2, standard error 0.0012.
  EXPECT_NEAR(offsetSum[0] / double(n), 0.5, 0.005);
  EXPECT_NEAR(offsetSum[1] / double(n), 0.5, 0.005);
}

TEST(Checkerboard, PointsFillTheEvenCellsUniformly) {
  Dataset data;
  std::string error;
  ASSERT_TRUE(loadDataset("checkerboard", DatasetOptions(), data, error)) << error;
  ASSERT_EQ(data.train.typeString(), "60000x2xf64");
  ASSERT_EQ(data.validation.typeString(), "10000x2xf64");
  ASSERT_EQ(data.test.typeString(), "10000x2xf64");
  expectEvenCellsUniform(data.train, 2);
  ASSERT_TRUE(loadDataset("checkerboard4", DatasetOptions(), data, error)) << error;
  expectEvenCellsUniform(data.train, 4);
}

TEST(Shuffle, IsADeterministicPermutation) {
  std::vector<int64_t> a, b, c, d;
  shuffledOrder(1000, 3, 5, a);
  shuffledOrder(1000, 3, 5, b);
  shuffledOrder(1000, 3, 6, c);
  shuffledOrder(1000, 4, 5, d);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a, d);
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i)
    ASSERT_EQ(sorted[size_t(i)], i);
  // The output vector is overwritten, whatever it held.
  shuffledOrder(1000, 3, 5, c);
  EXPECT_EQ(a, c);
  shuffledOrder(0, 3, 5, c);
  EXPECT_TRUE(c.empty());
  shuffledOrder(1, 3, 5, c);
  EXPECT_EQ(c, std::vector<int64_t>{0});
}

TEST(Shuffle, AllPermutationsEquallyLikely) {
  // 6 permutations of 3 over 6000 epochs: chi-square, 5 dof, P(> 20.5) = 0.001.
  std::map<std::vector<int64_t>, int> counts;
  std::vector<int64_t> order;
  for (uint64_t epoch = 0; epoch < 6000; ++epoch) {
    shuffledOrder(3, 11, epoch, order);
    ++counts[order];
  }
  ASSERT_EQ(counts.size(), 6u);
  double chi2 = 0;
  for (auto &[perm, count] : counts)
    chi2 += (count - 1000.0) * (count - 1000.0) / 1000.0;
  EXPECT_LT(chi2, 20.5);
}

TEST(GatherRows, CopiesAndConverts) {
  HostTensor data = HostTensor::fromVector<double>(
      {4, 3}, {0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32.5});
  int64_t rows[3] = {3, 0, 3};
  HostTensor batch(ElementType::f64, {3, 3});
  const void *storage = batch.data();
  gatherRows(data, rows, 3, batch);
  EXPECT_EQ(batch.data(), storage);
  std::vector<double> expected = {30, 31, 32.5, 0, 1, 2, 30, 31, 32.5};
  for (int64_t i = 0; i < 9; ++i)
    EXPECT_EQ(batch.dataAs<double>()[i], expected[size_t(i)]);

  // f32 batches, and any shape with D elements per row (e.g. NCHW images).
  HostTensor images(ElementType::f32, {2, 1, 1, 3});
  int64_t two[2] = {1, 2};
  gatherRows(data, two, 2, images);
  EXPECT_EQ(images.dataAs<float>()[0], 10.0f);
  EXPECT_EQ(images.dataAs<float>()[5], 22.0f);
}

TEST(GatherRowsDeathTest, RejectsBadRows) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  HostTensor data(ElementType::f64, {4, 3});
  HostTensor batch(ElementType::f64, {1, 3});
  int64_t row = 4;
  EXPECT_DEATH(gatherRows(data, &row, 1, batch), "row 4 out of range");
  HostTensor wrong(ElementType::f64, {1, 4});
  row = 0;
  EXPECT_DEATH(gatherRows(data, &row, 1, wrong), "batch is 1x4xf64");
}

TEST(NpyData, ReadsUint8AsF64) {
  std::string bytes = npyImage("|u1", "(2, 2)", std::string("\x00\x01\x80\xff", 4));
  HostTensor t;
  std::string error, descr;
  ASSERT_TRUE(parseNpyAsF64(bytes.data(), bytes.size(), "u.npy", t, error, &descr))
      << error;
  EXPECT_EQ(descr, "|u1");
  EXPECT_EQ(t.typeString(), "2x2xf64");
  EXPECT_EQ(t.dataAs<double>()[2], 128.0);
  EXPECT_EQ(t.dataAs<double>()[3], 255.0);
  // readNpy keeps its own dtype set: there is no uint8 HostTensor.
  EXPECT_FALSE(parseNpy(bytes.data(), bytes.size(), "u.npy", t, error));
  EXPECT_TRUE(contains(error, "unsupported dtype '|u1'")) << error;
  std::string f2 = npyImage("<f2", "(2,)", std::string(4, '\0'));
  EXPECT_FALSE(parseNpyAsF64(f2.data(), f2.size(), "h.npy", t, error));
  EXPECT_TRUE(contains(error, "'h.npy'") && contains(error, "'<f2'")) << error;
}

TEST(NpyData, SingleFileSplitsNinetyTen) {
  TempDir dir;
  std::vector<float> values(20 * 3);
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = float(i) * 0.5f;
  std::string path = dir.file("points.npy"), error;
  ASSERT_TRUE(writeNpy(path, HostTensor::fromVector<float>({20, 3}, values), error))
      << error;
  Dataset data;
  ASSERT_TRUE(loadDataset(path, DatasetOptions(), data, error)) << error;
  EXPECT_EQ(data.name, path);
  EXPECT_EQ(data.train.typeString(), "18x3xf64");
  EXPECT_EQ(data.validation.typeString(), "0x3xf64");
  EXPECT_EQ(data.test.typeString(), "2x3xf64");
  EXPECT_TRUE(data.imageShape.empty());
  EXPECT_EQ(data.train.dataAs<double>()[4], 2.0);
  EXPECT_EQ(data.test.dataAs<double>()[0], 27.0); // row 18, file order

  DatasetOptions options;
  options.validationFromTrain = 3;
  ASSERT_TRUE(loadDataset(path, options, data, error)) << error;
  EXPECT_EQ(data.train.typeString(), "15x3xf64");
  EXPECT_EQ(data.validation.typeString(), "3x3xf64");
  EXPECT_EQ(data.validation.dataAs<double>()[0], 22.5); // row 15
  options.validationFromTrain = 18;
  EXPECT_FALSE(loadDataset(path, options, data, error));
  EXPECT_TRUE(contains(error, "18 validation rows")) << error;
}

TEST(NpyData, ImageFilesAndSplitsByFile) {
  TempDir dir;
  std::string pixels;
  for (int i = 0; i < 3 * 2 * 2; ++i)
    pixels += char(i * 20);
  std::string train = dir.file("train.npy"), validation = dir.file("val.npy"),
              test = dir.file("test.npy"), error;
  writeBytes(train, npyImage("|u1", "(3, 2, 2)", pixels));
  writeBytes(validation, npyImage("|u1", "(1, 2, 2)", pixels.substr(0, 4)));
  writeBytes(test, npyImage("|u1", "(2, 2, 2)", pixels.substr(4)));
  Dataset data;
  ASSERT_TRUE(loadDataset(train + "," + test, DatasetOptions(), data, error))
      << error;
  EXPECT_EQ(data.train.typeString(), "3x4xf64");
  EXPECT_EQ(data.validation.typeString(), "0x4xf64");
  EXPECT_EQ(data.test.typeString(), "2x4xf64");
  EXPECT_EQ(data.imageShape, (std::vector<int64_t>{2, 2}));
  EXPECT_DOUBLE_EQ(data.train.dataAs<double>()[11], 220.0 / 255.0);
  EXPECT_DOUBLE_EQ(data.test.dataAs<double>()[0], 80.0 / 255.0);

  ASSERT_TRUE(loadDataset(train + "," + validation + "," + test,
                          DatasetOptions(), data, error))
      << error;
  EXPECT_EQ(data.validation.typeString(), "1x4xf64");

  // Examples must agree in shape across files.
  std::string other = dir.file("other.npy");
  writeBytes(other, npyImage("|u1", "(1, 4)", pixels.substr(0, 4)));
  EXPECT_FALSE(loadDataset(train + "," + other, DatasetOptions(), data, error));
  EXPECT_TRUE(contains(error, other) && contains(error, "2x2xf64")) << error;
}

TEST(NpyData, ErrorsNameTheFileAndTheProblem) {
  TempDir dir;
  Dataset data;
  std::string error;

  std::string missing = dir.path() + "/absent.npy";
  EXPECT_FALSE(loadDataset(missing, DatasetOptions(), data, error));
  EXPECT_TRUE(contains(error, "'" + missing + "'")) << error;

  std::string ints = dir.file("ints.npy");
  ASSERT_TRUE(writeNpy(ints, HostTensor::fromVector<int32_t>({2, 2}, {1, 2, 3, 4}),
                       error));
  EXPECT_FALSE(loadDataset(ints, DatasetOptions(), data, error));
  EXPECT_TRUE(contains(error, ints) && contains(error, "'<i4'")) << error;

  std::string vector = dir.file("vector.npy");
  ASSERT_TRUE(writeNpy(vector, HostTensor::fromVector<double>({3}, {1, 2, 3}),
                       error));
  EXPECT_FALSE(loadDataset(vector, DatasetOptions(), data, error));
  EXPECT_TRUE(contains(error, vector) && contains(error, "[N, D]")) << error;

  std::string nan = dir.file("nan.npy");
  ASSERT_TRUE(writeNpy(nan,
                       HostTensor::fromVector<double>(
                           {2, 2}, {0, 1, std::numeric_limits<double>::quiet_NaN(), 3}),
                       error));
  EXPECT_FALSE(loadDataset(nan, DatasetOptions(), data, error));
  EXPECT_TRUE(contains(error, nan) && contains(error, "row 1 column 0 is NaN"))
      << error;

  EXPECT_FALSE(loadDataset("mnist", DatasetOptions(), data, error));
  EXPECT_TRUE(contains(error, "unknown data set 'mnist'")) << error;
}

TEST(Idx, ReadsGzippedAndPlainFiles) {
  TempDir dir;
  std::string payload = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, (char)200};
  std::string gz = dir.file("x-idx3-ubyte.gz"), plain = dir.file("x-idx3-ubyte"),
              error;
  writeGzip(gz, idxImage(0x08, {3, 2, 2}, payload));
  writeBytes(plain, idxImage(0x08, {3, 2, 2}, payload));
  for (const std::string &path : {gz, plain}) {
    std::vector<int64_t> shape;
    std::vector<uint8_t> values;
    ASSERT_TRUE(readIdxU8(path, shape, values, error)) << error;
    EXPECT_EQ(shape, (std::vector<int64_t>{3, 2, 2}));
    ASSERT_EQ(values.size(), 12u);
    EXPECT_EQ(values[0], 1);
    EXPECT_EQ(values[11], 200);
  }
}

TEST(Idx, RejectsBadFiles) {
  TempDir dir;
  std::string payload(12, '\x07'), error;
  std::vector<int64_t> shape;
  std::vector<uint8_t> values;
  auto check = [&](const std::string &path, const std::string &part) {
    EXPECT_FALSE(readIdxU8(path, shape, values, error)) << path;
    EXPECT_TRUE(contains(error, "'" + path + "'")) << error;
    EXPECT_TRUE(contains(error, part)) << error;
  };

  std::string magic = dir.file("magic.gz");
  writeGzip(magic, "\x12\x34" + idxImage(0x08, {12}, payload).substr(2));
  check(magic, "bad magic");

  std::string floats = dir.file("floats.gz");
  writeGzip(floats, idxImage(0x0d, {3}, payload));
  check(floats, "element type 0x0d");

  std::string shortData = dir.file("short.gz");
  writeGzip(shortData, idxImage(0x08, {4, 4}, payload));
  check(shortData, "promises 16 bytes");

  std::string longData = dir.file("long.gz");
  writeGzip(longData, idxImage(0x08, {2, 4}, payload));
  check(longData, "unexpected data after");

  // A gzip stream cut short: in the data, and in the trailer (CRC, length).
  std::string whole = dir.file("whole.gz");
  std::string big(5000, '\0');
  for (size_t i = 0; i < big.size(); ++i)
    big[i] = char((i * 7919) % 251);
  writeGzip(whole, idxImage(0x08, {5000}, big));
  std::string compressed = readFile(whole);
  std::string cut = dir.file("cut.gz"), noTrailer = dir.file("notrailer.gz");
  writeBytes(cut, compressed.substr(0, compressed.size() / 2));
  writeBytes(noTrailer, compressed.substr(0, compressed.size() - 4));
  check(cut, "truncated");
  check(noTrailer, "truncated");

  // A corrupted byte in the stream.
  std::string flipped = compressed;
  flipped[compressed.size() / 2] ^= 0x55;
  std::string corrupt = dir.file("corrupt.gz");
  writeBytes(corrupt, flipped);
  EXPECT_FALSE(readIdxU8(corrupt, shape, values, error));
  EXPECT_TRUE(contains(error, corrupt)) << error;

  check(dir.path() + "/absent.gz", "cannot open");
}

TEST(FashionMnist, DataDirComesFirstAndShapesAreChecked) {
  TempDir dir;
  std::string sub = dir.subdir("fashion-mnist");
  std::string train = dir.file("fashion-mnist/train-images-idx3-ubyte.gz");
  writeGzip(train, idxImage(0x08, {2, 28, 28}, std::string(2 * 784, '\x01')));
  DatasetOptions options;
  options.dataDir = dir.path();
  Dataset data;
  std::string error;
  EXPECT_FALSE(loadDataset("fashion-mnist", options, data, error));
  EXPECT_TRUE(contains(error, train) && contains(error, "expected 60000x28x28"))
      << error;
}

TEST(FashionMnist, LoadsTheDebianPackage) {
  const char *dir = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
  if (::access(dir, R_OK) != 0)
    GTEST_SKIP() << "Fashion-MNIST is not installed (apt-get install "
                    "dataset-fashion-mnist)";
  Dataset data;
  std::string error;
  DatasetOptions options;
  options.validationFromTrain = 10000;
  ASSERT_TRUE(loadDataset("fashion-mnist", options, data, error)) << error;
  EXPECT_EQ(data.train.typeString(), "50000x784xf64");
  EXPECT_EQ(data.validation.typeString(), "10000x784xf64");
  EXPECT_EQ(data.test.typeString(), "10000x784xf64");
  EXPECT_EQ(data.imageShape, (std::vector<int64_t>{28, 28}));
  for (const HostTensor *split : {&data.train, &data.test}) {
    auto [lo, hi] = std::minmax_element(split->dataAs<double>(),
                                        split->dataAs<double>() + split->numElements());
    EXPECT_EQ(*lo, 0.0);
    EXPECT_EQ(*hi, 1.0);
  }
  // Fashion-MNIST's pixel mean is 0.286 (72.9 / 255).
  EXPECT_NEAR(mean(data.test), 0.286, 0.01);
}

TEST(FreyFaces, LoadsThePapersSplit) {
  Dataset data;
  std::string error;
  if (!loadDataset("freyface", DatasetOptions(), data, error)) {
    if (contains(error, "cannot find"))
      GTEST_SKIP() << "Frey faces not found: " << error;
    FAIL() << error;
  }
  EXPECT_EQ(data.train.typeString(), "1400x560xf64");
  EXPECT_EQ(data.validation.typeString(), "300x560xf64");
  EXPECT_EQ(data.test.typeString(), "265x560xf64");
  EXPECT_EQ(data.imageShape, (std::vector<int64_t>{28, 20}));
  for (const HostTensor *split : {&data.train, &data.validation, &data.test}) {
    auto [lo, hi] = std::minmax_element(split->dataAs<double>(),
                                        split->dataAs<double>() + split->numElements());
    EXPECT_GE(*lo, 0.0);
    EXPECT_LE(*hi, 1.0);
  }
  // The figures the paper's released code records for the training split.
  double m = mean(data.train), var = 0;
  const double *p = data.train.dataAs<double>();
  for (int64_t i = 0; i < data.train.numElements(); ++i)
    var += (p[i] - m) * (p[i] - m);
  EXPECT_NEAR(m, 0.6049, 0.001);
  EXPECT_NEAR(std::sqrt(var / double(data.train.numElements())), 0.1763, 0.001);
}
