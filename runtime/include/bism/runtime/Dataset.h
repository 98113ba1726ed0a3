//===- Dataset.h - training data sets ---------------------------*- C++ -*-===//
//
// The data sets of DESIGN.md section 5 as f64 [N, D] matrices (one example a
// row), and the deterministic shuffling and minibatch gathering of the
// training loop. loadDataset accepts these specs:
//
//   checkerboard, checkerboard4
//                  Generated from options.seed (see below); 60000 / 10000 /
//                  10000 train / validation / test points by default.
//   freyface       freyface/frey_faces_u8.npy (uint8, 1965 x 28 x 20) in the
//                  first data directory that has it; scaled by 1/255; split
//                  in file order into 1400 / 300 / 265 (the BiSM paper's
//                  split, whose training pixel mean is 0.6049).
//   fashion-mnist  The gzip'd IDX files of Debian's dataset-fashion-mnist
//                  (fashion-mnist/ under the data directories, then
//                  /usr/share/datasets/fashion-mnist); scaled by 1/255;
//                  60000 train / 10000 test, no validation unless
//                  options.validationFromTrain moves some.
//   A.npy          One array, f4, f8 or u1 (u1 is scaled by 1/255), shape
//                  [N, D] or [N, ...] (flattened; imageShape = the trailing
//                  dimensions when there are two or more). In file order, the
//                  last N / 10 rows are the test split, the rest train.
//   A.npy,B.npy    Train and test files; A.npy,B.npy,C.npy adds validation
//                  (train, validation, test).
//
// Data directories, searched in order: options.dataDir, $BISM_DATA_DIR,
// <repository>/../shared/data, ../shared/data (relative to the working
// directory). Relative .npy paths are relative to the working directory.
//
// The checkerboard (BiSM's toy data): a g x g grid of cells of side 1/g
// tiles [0,1]^2, g = 2 for "checkerboard" and 4 for "checkerboard4"; cell
// (i, j) (row i along y, column j along x) holds mass iff i + j is even, and
// points are uniform inside those g^2/2 cells, so the density is 2 there and
// the best average log-likelihood is log 2. (A GRBM with 4 latents and the
// examples' learning rate fits the 2 x 2 board in 20,000 steps; the 4 x 4
// board needs far more.) With key = {seed low word, seed high word}, split
// index s (0 train, 1 validation, 2 test) and m = g/2, point n takes
// w = philoxWordsForElement(keySplit(key, s), n) and
//   k = w1 & (m g - 1) (bits the f64 conversion drops), i = k div m,
//   j = 2 (k mod m) + (i & 1),
//   x = (j + u(w0, w1)) / g, y = (i + u(w2, w3)) / g,
// with u(a, b) = bits53(a, b) * 2^-53 (Philox.h); column 0 is x, column 1 y.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_RUNTIME_DATASET_H
#define BISM_RUNTIME_DATASET_H

#include "bism/runtime/HostTensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace bism::runtime {

struct Dataset {
  std::string name;
  /// Each [N, D] f64, row-major; an absent split has N = 0.
  HostTensor train, validation, test;
  /// {H, W} (or {C, H, W}) for images, empty for points.
  std::vector<int64_t> imageShape;
};

struct DatasetOptions {
  /// Seed of generated data sets.
  uint64_t seed = 0;
  /// Searched first for data files when not empty.
  std::string dataDir;
  /// Split sizes of generated data sets.
  int64_t generatedTrain = 60000;
  int64_t generatedValidation = 10000;
  int64_t generatedTest = 10000;
  /// For data sets without a validation split (fashion-mnist, .npy without a
  /// validation file): this many rows move from the end of the training
  /// split to validation.
  int64_t validationFromTrain = 0;
};

/// Loads the data set named by `spec` (see the file comment). On failure
/// returns false and sets `error` to a message naming the file and the
/// problem; `out` is then unspecified.
bool loadDataset(const std::string &spec, const DatasetOptions &options,
                 Dataset &out, std::string &error);

/// The data directories loadDataset searches, in order.
std::vector<std::string> dataDirectories(const DatasetOptions &options);

/// Generates `count` checkerboard points of split `split` (0 train,
/// 1 validation, 2 test) as [count, 2] f64, exactly as loadDataset does.
HostTensor generateCheckerboard(uint64_t seed, uint32_t split, int64_t count,
                                int64_t cellsPerSide = 2);

/// Reads an IDX file of unsigned bytes (type 0x08; MNIST's format), gzip'd or
/// not. `shape` receives the dimensions, `values` the bytes in row-major order.
bool readIdxU8(const std::string &path, std::vector<int64_t> &shape,
               std::vector<uint8_t> &values, std::string &error);

/// A permutation of 0..n-1 that depends only on (n, seed, epoch): Fisher-Yates
/// from the last position down, where position p swaps with
/// j = floor(r * (p + 1) / 2^64), r = (w0 << 32 | w1) of Philox with key
/// keySplit({seed low, seed high}, kShuffleStream) and counter
/// {p low, p high, epoch low, epoch high}. A run resumes exactly from
/// (seed, epoch, position in the order).
void shuffledOrder(int64_t n, uint64_t seed, uint64_t epoch,
                   std::vector<int64_t> &order);
/// keySplit index of the shuffle stream ("shuf" in the high word), far from
/// any key a training loop derives by counting.
constexpr uint64_t kShuffleStream = 0x7368756600000000ull;

/// Copies rows `rows[0..count)` of the f64 [N, D] `data` into `batch`, whose
/// first dimension is `count` and whose other dimensions hold D elements; f32
/// or f64 (converted). Allocates nothing; aborts on mismatched shapes or an
/// out-of-range row.
void gatherRows(const HostTensor &data, const int64_t *rows, int64_t count,
                HostTensor &batch);

} // namespace bism::runtime

#endif // BISM_RUNTIME_DATASET_H
