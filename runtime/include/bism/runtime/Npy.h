//===- Npy.h - NumPy .npy files ---------------------------------*- C++ -*-===//
//
// Reads and writes NumPy .npy files (format versions 1.0, 2.0 and 3.0 on
// read; 1.0, or 2.0 when the header needs it, on write). Supported dtypes are
// the little-endian '<f4', '<f8', '<i4', '<i8' and '|b1', C order only;
// readNpyAsF64 also accepts '|u1' (uint8, e.g. images), converting to f64.
// Errors are returned as a message that names the file; writes are atomic
// (a temporary file is written, synced and renamed), so a failed write never
// leaves a partial file behind.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_RUNTIME_NPY_H
#define BISM_RUNTIME_NPY_H

#include "bism/runtime/FileIO.h"
#include "bism/runtime/HostTensor.h"

#include <cstddef>
#include <string>

namespace bism::runtime {

/// Reads `path` into `tensor`. On failure returns false, sets `error` and
/// leaves `tensor` unchanged.
bool readNpy(const std::string &path, HostTensor &tensor, std::string &error);

/// Parses an in-memory .npy image; `name` is used in error messages.
bool parseNpy(const void *bytes, size_t size, const std::string &name,
              HostTensor &tensor, std::string &error);

/// Reads `path` converting any of '<f4', '<f8', '|u1', '|b1', '<i4', '<i8' to
/// an f64 tensor of the same shape (values unchanged, not rescaled). `descr`,
/// if given, receives the file's dtype. On failure returns false, sets `error`
/// and leaves `tensor` unchanged.
bool readNpyAsF64(const std::string &path, HostTensor &tensor,
                  std::string &error, std::string *descr = nullptr);
bool parseNpyAsF64(const void *bytes, size_t size, const std::string &name,
                   HostTensor &tensor, std::string &error,
                   std::string *descr = nullptr);

/// Serialises `tensor` as a .npy image.
std::string encodeNpy(const HostTensor &tensor);

/// Writes `tensor` to `path` atomically (via `path + ".tmp"`, fsync, rename).
/// On failure returns false, sets `error`, and removes the temporary file.
bool writeNpy(const std::string &path, const HostTensor &tensor,
              std::string &error);

} // namespace bism::runtime

#endif // BISM_RUNTIME_NPY_H
