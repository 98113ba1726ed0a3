//===- Checkpoint.h - training state on disk --------------------*- C++ -*-===//
//
// A checkpoint is a list of named tensors (parameters, optimiser moments,
// step counters, chains) plus string metadata (loop position, the resolved
// configuration, the model file). Binary layout, little-endian:
//
//   "BISMCKPT" u32 version=1
//   u64 #meta    { u64 len, key bytes, u64 len, value bytes }*
//   u64 #tensors { u64 len, name, u8 element type, u32 rank, i64 dims[rank],
//                  u64 bytes, data }*
//   u64 FNV-1a hash of everything before it
//
// Writes are atomic (FileIO.h); reads check the hash, so a truncated or
// corrupted file is reported, never half-loaded.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_RUNTIME_CHECKPOINT_H
#define BISM_RUNTIME_CHECKPOINT_H

#include "bism/runtime/HostTensor.h"

#include <string>
#include <utility>
#include <vector>

namespace bism::runtime {

struct Checkpoint {
  std::vector<std::pair<std::string, std::string>> meta;
  std::vector<std::pair<std::string, HostTensor>> tensors;

  /// The value of `key`, or null.
  const std::string *findMeta(const std::string &key) const;
  const HostTensor *findTensor(const std::string &name) const;
  void setMeta(const std::string &key, std::string value);
};

std::string encodeCheckpoint(const Checkpoint &checkpoint);
bool decodeCheckpoint(const std::string &bytes, const std::string &name,
                      Checkpoint &checkpoint, std::string &error);

bool writeCheckpoint(const std::string &path, const Checkpoint &checkpoint,
                     std::string &error);
bool readCheckpoint(const std::string &path, Checkpoint &checkpoint,
                    std::string &error);

/// Whether a state tensor is a model parameter ("theta.<name>" or
/// "phi.<name>"), not optimiser state or a counter.
bool isParameterName(const std::string &name);

/// Writes the checkpoint's parameters (every tensor with `all`) to
/// `dir`/<name>.npy, creating `dir`; `written` gets the paths. False with
/// `error` on the first failure (files written before it stay whole).
bool exportCheckpointNpy(const Checkpoint &checkpoint, const std::string &dir,
                         bool all, std::vector<std::string> &written,
                         std::string &error);

} // namespace bism::runtime

#endif // BISM_RUNTIME_CHECKPOINT_H
