//===- Dataset.cpp - training data sets -----------------------------------===//
#include "bism/runtime/Dataset.h"
#include "bism/runtime/Npy.h"
#include "bism/runtime/Philox.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/stat.h>
#include <zlib.h>

namespace bism::runtime {

namespace {

std::string quoted(const std::string &path) { return "'" + path + "'"; }

bool isFile(const std::string &path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

PhiloxKey keyFromSeed(uint64_t seed) {
  return {uint32_t(seed), uint32_t(seed >> 32)};
}

/// The first `relative` under the data directories (then `extra`), or an
/// error listing every place tried.
bool findDataFile(const DatasetOptions &options, const std::string &relative,
                  const std::vector<std::string> &extra, std::string &found,
                  std::string &error) {
  std::vector<std::string> tried;
  for (const std::string &dir : dataDirectories(options))
    tried.push_back(dir + "/" + relative);
  for (const std::string &path : extra)
    tried.push_back(path);
  for (const std::string &path : tried)
    if (isFile(path)) {
      found = path;
      return true;
    }
  error = "cannot find " + quoted(relative) + "; tried";
  for (size_t i = 0; i < tried.size(); ++i)
    error += (i ? ", " : " ") + quoted(tried[i]);
  error += " (set BISM_DATA_DIR to the directory that holds it)";
  return false;
}

/// Rows [begin, end) of a [N, D] f64 tensor.
HostTensor sliceRows(const HostTensor &data, int64_t begin, int64_t end) {
  int64_t columns = data.shape()[1];
  HostTensor rows(ElementType::f64, {end - begin, columns});
  if (end > begin)
    std::memcpy(rows.data(), data.dataAs<double>() + begin * columns,
                size_t((end - begin) * columns) * sizeof(double));
  return rows;
}

bool checkFinite(const HostTensor &data, const std::string &name,
                 std::string &error) {
  const double *p = data.dataAs<double>();
  int64_t columns = data.shape()[1];
  for (int64_t i = 0; i < data.numElements(); ++i)
    if (!std::isfinite(p[i])) {
      error = quoted(name) + ": row " + std::to_string(i / columns) +
              " column " + std::to_string(i % columns) + " is " +
              (std::isnan(p[i]) ? "NaN" : "infinite");
      return false;
    }
  return true;
}

/// Moves `count` rows from the end of train to validation.
bool holdOutValidation(Dataset &out, int64_t count, std::string &error) {
  if (count <= 0)
    return true;
  int64_t n = out.train.shape()[0];
  if (count >= n) {
    error = out.name + ": cannot move " + std::to_string(count) +
            " validation rows out of " + std::to_string(n) + " training rows";
    return false;
  }
  out.validation = sliceRows(out.train, n - count, n);
  out.train = sliceRows(out.train, 0, n - count);
  return true;
}

HostTensor emptySplit(int64_t columns) {
  return HostTensor(ElementType::f64, {0, columns});
}

bool loadCheckerboard(const DatasetOptions &options, int64_t cellsPerSide,
                      Dataset &out, std::string &error) {
  if (options.generatedTrain < 0 || options.generatedValidation < 0 ||
      options.generatedTest < 0) {
    error = "checkerboard: negative split size";
    return false;
  }
  out.name = cellsPerSide == 2 ? "checkerboard"
                               : "checkerboard" + std::to_string(cellsPerSide);
  out.train = generateCheckerboard(options.seed, 0, options.generatedTrain,
                                   cellsPerSide);
  out.validation = generateCheckerboard(
      options.seed, 1, options.generatedValidation, cellsPerSide);
  out.test = generateCheckerboard(options.seed, 2, options.generatedTest,
                                  cellsPerSide);
  out.imageShape.clear();
  return true;
}

bool loadFreyFaces(const DatasetOptions &options, Dataset &out,
                   std::string &error) {
  std::string path;
  if (!findDataFile(options, "freyface/frey_faces_u8.npy", {}, path, error))
    return false;
  HostTensor faces;
  std::string descr;
  if (!readNpyAsF64(path, faces, error, &descr))
    return false;
  if (descr != "|u1" && descr != "<u1") {
    error = quoted(path) + ": dtype '" + descr + "', expected uint8 ('|u1')";
    return false;
  }
  if (faces.shape() != std::vector<int64_t>{1965, 28, 20}) {
    error = quoted(path) + ": shape " + faces.typeString() +
            ", expected 1965x28x20 (the Frey faces)";
    return false;
  }
  double *p = faces.dataAs<double>();
  for (int64_t i = 0; i < faces.numElements(); ++i)
    p[i] /= 255.0;
  HostTensor flat(ElementType::f64, {1965, 560});
  std::memcpy(flat.data(), faces.data(), faces.byteSize());
  out.name = "freyface";
  out.train = sliceRows(flat, 0, 1400);
  out.validation = sliceRows(flat, 1400, 1700);
  out.test = sliceRows(flat, 1700, 1965);
  out.imageShape = {28, 20};
  return true;
}

/// Reads an IDX image file and checks it holds `count` 28x28 images.
bool readMnistImages(const std::string &path, int64_t count, HostTensor &out,
                     std::string &error) {
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
  if (!readIdxU8(path, shape, bytes, error))
    return false;
  if (shape != std::vector<int64_t>{count, 28, 28}) {
    std::string got;
    for (size_t i = 0; i < shape.size(); ++i)
      got += (i ? "x" : "") + std::to_string(shape[i]);
    error = quoted(path) + ": shape " + got + ", expected " +
            std::to_string(count) + "x28x28";
    return false;
  }
  out = HostTensor(ElementType::f64, {count, 784});
  double *p = out.dataAs<double>();
  for (size_t i = 0; i < bytes.size(); ++i)
    p[i] = bytes[i] / 255.0;
  return true;
}

bool loadFashionMnist(const DatasetOptions &options, Dataset &out,
                      std::string &error) {
  const char *system = "/usr/share/datasets/fashion-mnist/";
  std::string trainPath, testPath;
  if (!findDataFile(options, "fashion-mnist/train-images-idx3-ubyte.gz",
                    {std::string(system) + "train-images-idx3-ubyte.gz"},
                    trainPath, error)) {
    error += " (Debian package dataset-fashion-mnist)";
    return false;
  }
  // The test file from the same directory as the training file.
  testPath = trainPath.substr(0, trainPath.rfind('/') + 1) +
             "t10k-images-idx3-ubyte.gz";
  out.name = "fashion-mnist";
  if (!readMnistImages(trainPath, 60000, out.train, error) ||
      !readMnistImages(testPath, 10000, out.test, error))
    return false;
  out.validation = emptySplit(784);
  out.imageShape = {28, 28};
  return holdOutValidation(out, options.validationFromTrain, error);
}

/// One .npy split: f4/f8 as stored, u1 scaled by 1/255, flattened to [N, D].
bool readNpySplit(const std::string &path, HostTensor &out,
                  std::vector<int64_t> &trailing, std::string &error) {
  HostTensor array;
  std::string descr;
  if (!readNpyAsF64(path, array, error, &descr))
    return false;
  bool bytes = descr == "|u1" || descr == "<u1";
  if (descr != "<f4" && descr != "<f8" && !bytes) {
    error = quoted(path) + ": dtype '" + descr +
            "' is not a data set type (use float32, float64 or uint8)";
    return false;
  }
  if (array.rank() < 2) {
    error = quoted(path) + ": shape " + array.typeString() +
            ", expected [N, D] or [N, H, W] (one example a row)";
    return false;
  }
  if (array.shape()[0] == 0) {
    error = quoted(path) + ": no examples (shape " + array.typeString() + ")";
    return false;
  }
  trailing.assign(array.shape().begin() + 1, array.shape().end());
  int64_t columns = 1;
  for (int64_t dim : trailing)
    columns *= dim;
  out = HostTensor(ElementType::f64, {array.shape()[0], columns});
  double *p = out.dataAs<double>();
  const double *in = array.dataAs<double>();
  for (int64_t i = 0; i < out.numElements(); ++i)
    p[i] = bytes ? in[i] / 255.0 : in[i];
  return checkFinite(out, path, error);
}

bool loadNpyFiles(const std::vector<std::string> &paths,
                  const DatasetOptions &options, Dataset &out,
                  std::string &error) {
  std::vector<HostTensor> splits(paths.size());
  std::vector<int64_t> trailing;
  for (size_t i = 0; i < paths.size(); ++i) {
    std::vector<int64_t> shape;
    if (!readNpySplit(paths[i], splits[i], shape, error))
      return false;
    if (i == 0) {
      trailing = shape;
    } else if (shape != trailing) {
      error = quoted(paths[i]) + ": examples of shape " +
              HostTensor(ElementType::f64, shape).typeString() + " but " +
              quoted(paths[0]) + " has " +
              HostTensor(ElementType::f64, trailing).typeString();
      return false;
    }
  }
  out.name = paths[0];
  int64_t columns = splits[0].shape()[1];
  out.imageShape = trailing.size() >= 2 ? trailing : std::vector<int64_t>{};
  out.validation = emptySplit(columns);
  if (paths.size() == 1) {
    int64_t n = splits[0].shape()[0];
    out.train = sliceRows(splits[0], 0, n - n / 10);
    out.test = sliceRows(splits[0], n - n / 10, n);
  } else {
    out.train = std::move(splits[0]);
    out.test = std::move(splits.back());
    if (paths.size() == 3)
      out.validation = std::move(splits[1]);
  }
  if (paths.size() == 3)
    return true;
  return holdOutValidation(out, options.validationFromTrain, error);
}

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

} // namespace

std::vector<std::string> dataDirectories(const DatasetOptions &options) {
  std::vector<std::string> dirs;
  if (!options.dataDir.empty())
    dirs.push_back(options.dataDir);
  if (const char *env = std::getenv("BISM_DATA_DIR"); env && *env)
    dirs.push_back(env);
#ifdef BISM_SOURCE_DIR
  dirs.push_back(std::string(BISM_SOURCE_DIR) + "/../shared/data");
#endif
  dirs.push_back("../shared/data");
  return dirs;
}

HostTensor generateCheckerboard(uint64_t seed, uint32_t split, int64_t count,
                                int64_t cellsPerSide) {
  HostTensor points(ElementType::f64, {count, 2});
  double *p = points.dataAs<double>();
  PhiloxKey key = keySplit(keyFromSeed(seed), split);
  const uint32_t half = uint32_t(cellsPerSide / 2);
  const double side = 1.0 / double(cellsPerSide);
  for (int64_t n = 0; n < count; ++n) {
    PhiloxCounter w = philoxWordsForElement(key, uint64_t(n));
    uint32_t k = w[1] & (half * uint32_t(cellsPerSide) - 1u);
    uint32_t i = k / half, j = 2 * (k % half) + (i & 1u);
    p[2 * n] = (j + double(bits53(w[0], w[1])) * 0x1p-53) * side;
    p[2 * n + 1] = (i + double(bits53(w[2], w[3])) * 0x1p-53) * side;
  }
  return points;
}

bool readIdxU8(const std::string &path, std::vector<int64_t> &shape,
               std::vector<uint8_t> &values, std::string &error) {
  errno = 0;
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) {
    error = "cannot open " + quoted(path) + ": " +
            (errno ? std::strerror(errno) : "out of memory");
    return false;
  }
  gzbuffer(file, 1 << 20);
  auto fail = [&](const std::string &message) {
    error = quoted(path) + ": " + message;
    gzclose(file);
    return false;
  };
  // zlib's verdict after a short read: corrupt data, or the end of the file.
  auto failShort = [&](const std::string &truncated) {
    int code = Z_OK;
    const char *why = gzerror(file, &code);
    if (code == Z_OK || code == Z_STREAM_END || code == Z_BUF_ERROR)
      return fail("truncated: " + truncated);
    std::string reason = code == Z_ERRNO ? std::strerror(errno) : why;
    if (reason.compare(0, path.size() + 2, path + ": ") == 0)
      reason.erase(0, path.size() + 2); // zlib names the file too
    return fail("corrupt gzip data (" + reason + ")");
  };
  // Reads exactly `size` bytes.
  auto read = [&](void *out, size_t size) {
    auto *bytes = static_cast<char *>(out);
    while (size > 0) {
      unsigned chunk = unsigned(std::min<size_t>(size, 1u << 30));
      int n = gzread(file, bytes, chunk);
      if (n <= 0)
        return false;
      bytes += n;
      size -= size_t(n);
    }
    return true;
  };

  unsigned char magic[4];
  if (!read(magic, 4))
    return failShort("no IDX header");
  if (magic[0] != 0 || magic[1] != 0)
    return fail("not an IDX file (bad magic)");
  if (magic[2] != 0x08) {
    char type[8];
    std::snprintf(type, sizeof(type), "0x%02x", magic[2]);
    return fail(std::string("IDX element type ") + type +
                ", expected 0x08 (unsigned byte)");
  }
  if (magic[3] < 1 || magic[3] > 4)
    return fail("IDX rank " + std::to_string(magic[3]) + ", expected 1 to 4");
  std::vector<int64_t> dims(magic[3]);
  uint64_t count = 1;
  for (int64_t &dim : dims) {
    unsigned char be[4];
    if (!read(be, 4))
      return failShort("the IDX header ends early");
    dim = int64_t(uint32_t(be[0]) << 24 | uint32_t(be[1]) << 16 |
                  uint32_t(be[2]) << 8 | be[3]);
    if (dim && count > (uint64_t(1) << 40) / uint64_t(dim))
      return fail("IDX shape is too large");
    count *= uint64_t(dim);
  }
  uint64_t bytes = 0;
  std::string sizeError;
  if (!checkTensorBytes({int64_t(count)}, ElementType::f64, bytes, sizeError))
    return fail("IDX data of " + std::to_string(count) +
                " values, as doubles " + sizeError);
  std::vector<uint8_t> data(count);
  if (count && !read(data.data(), count))
    return failShort("the header promises " + std::to_string(count) +
                     " bytes of data");
  // Reading past the data makes zlib check the gzip trailer (CRC, length).
  char extra;
  int n = gzread(file, &extra, 1);
  int code = Z_OK;
  gzerror(file, &code);
  if (n < 0 || (code != Z_OK && code != Z_STREAM_END))
    return failShort("the gzip stream ends early");
  if (n > 0)
    return fail("unexpected data after the " + std::to_string(count) +
                " bytes the header promises");
  gzclose(file);
  shape = std::move(dims);
  values = std::move(data);
  return true;
}

bool loadDataset(const std::string &spec, const DatasetOptions &options,
                 Dataset &out, std::string &error) {
  if (options.validationFromTrain < 0) {
    error = "negative validationFromTrain";
    return false;
  }
  if (spec == "checkerboard")
    return loadCheckerboard(options, 2, out, error);
  if (spec == "checkerboard4")
    return loadCheckerboard(options, 4, out, error);
  if (spec == "freyface")
    return loadFreyFaces(options, out, error);
  if (spec == "fashion-mnist")
    return loadFashionMnist(options, out, error);

  std::vector<std::string> paths;
  size_t start = 0;
  while (true) {
    size_t comma = spec.find(',', start);
    paths.push_back(spec.substr(start, comma - start));
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  bool allNpy = paths.size() <= 3;
  for (const std::string &path : paths)
    allNpy = allNpy && endsWith(path, ".npy");
  if (!allNpy) {
    error = "unknown data set " + quoted(spec) +
            " (expected checkerboard, checkerboard4, freyface, fashion-mnist, a .npy file, "
            "or train.npy,test.npy or train.npy,validation.npy,test.npy)";
    return false;
  }
  return loadNpyFiles(paths, options, out, error);
}

void shuffledOrder(int64_t n, uint64_t seed, uint64_t epoch,
                   std::vector<int64_t> &order) {
  order.resize(size_t(n < 0 ? 0 : n));
  for (int64_t i = 0; i < n; ++i)
    order[size_t(i)] = i;
  PhiloxKey key = keySplit(keyFromSeed(seed), kShuffleStream);
  for (int64_t p = n - 1; p > 0; --p) {
    PhiloxCounter w = philox4x32({uint32_t(p), uint32_t(uint64_t(p) >> 32),
                                  uint32_t(epoch), uint32_t(epoch >> 32)},
                                 key);
    uint64_t r = uint64_t(w[0]) << 32 | w[1];
    auto j = int64_t((unsigned __int128)r * uint64_t(p + 1) >> 64);
    std::swap(order[size_t(p)], order[size_t(j)]);
  }
}

void gatherRows(const HostTensor &data, const int64_t *rows, int64_t count,
                HostTensor &batch) {
  auto die = [](const std::string &message) {
    std::fprintf(stderr, "bism runtime: gatherRows: %s\n", message.c_str());
    std::abort();
  };
  if (data.rank() != 2 || data.elementType() != ElementType::f64)
    die("data is " + data.typeString() + ", expected [N, D] f64");
  int64_t n = data.shape()[0], columns = data.shape()[1];
  if (batch.rank() < 1 || batch.shape()[0] != count ||
      (count && batch.numElements() / count != columns) ||
      (batch.elementType() != ElementType::f32 &&
       batch.elementType() != ElementType::f64))
    die("batch is " + batch.typeString() + ", expected " +
        std::to_string(count) + " rows of " + std::to_string(columns) +
        " f32 or f64 elements");
  const double *in = data.dataAs<double>();
  bool single = batch.elementType() == ElementType::f32;
  for (int64_t b = 0; b < count; ++b) {
    int64_t row = rows[b];
    if (row < 0 || row >= n)
      die("row " + std::to_string(row) + " out of range [0, " +
          std::to_string(n) + ")");
    const double *src = in + row * columns;
    if (single) {
      float *dst = static_cast<float *>(batch.data()) + b * columns;
      for (int64_t c = 0; c < columns; ++c)
        dst[c] = float(src[c]);
    } else {
      std::memcpy(static_cast<double *>(batch.data()) + b * columns, src,
                  size_t(columns) * sizeof(double));
    }
  }
}

} // namespace bism::runtime
