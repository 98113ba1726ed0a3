//===- Checkpoint.cpp - training state on disk ----------------------------===//
#include "bism/runtime/Checkpoint.h"
#include "bism/runtime/FileIO.h"
#include "bism/runtime/Npy.h"

#include <cstring>

namespace bism::runtime {

namespace {
constexpr char kMagic[8] = {'B', 'I', 'S', 'M', 'C', 'K', 'P', 'T'};
constexpr uint32_t kVersion = 1;

uint64_t fnv1a(const char *data, size_t size) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < size; ++i) {
    hash ^= uint8_t(data[i]);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

template <typename T> void put(std::string &out, T value) {
  out.append(reinterpret_cast<const char *>(&value), sizeof(T));
}
void putString(std::string &out, const std::string &text) {
  put<uint64_t>(out, text.size());
  out += text;
}

/// Bounds-checked reader: every read fails cleanly past the end.
struct Reader {
  const std::string &bytes;
  size_t offset = 0;
  template <typename T> bool get(T &value) {
    if (bytes.size() - offset < sizeof(T))
      return false;
    std::memcpy(&value, bytes.data() + offset, sizeof(T));
    offset += sizeof(T);
    return true;
  }
  bool getString(std::string &text) {
    uint64_t size;
    if (!get(size) || bytes.size() - offset < size)
      return false;
    text.assign(bytes.data() + offset, size_t(size));
    offset += size_t(size);
    return true;
  }
};
} // namespace

const std::string *Checkpoint::findMeta(const std::string &key) const {
  for (const auto &[k, v] : meta)
    if (k == key)
      return &v;
  return nullptr;
}

const HostTensor *Checkpoint::findTensor(const std::string &name) const {
  for (const auto &[n, t] : tensors)
    if (n == name)
      return &t;
  return nullptr;
}

void Checkpoint::setMeta(const std::string &key, std::string value) {
  for (auto &[k, v] : meta)
    if (k == key) {
      v = std::move(value);
      return;
    }
  meta.emplace_back(key, std::move(value));
}

std::string encodeCheckpoint(const Checkpoint &checkpoint) {
  std::string out(kMagic, sizeof(kMagic));
  put<uint32_t>(out, kVersion);
  put<uint64_t>(out, checkpoint.meta.size());
  for (const auto &[key, value] : checkpoint.meta) {
    putString(out, key);
    putString(out, value);
  }
  put<uint64_t>(out, checkpoint.tensors.size());
  for (const auto &[name, tensor] : checkpoint.tensors) {
    putString(out, name);
    put<uint8_t>(out, uint8_t(tensor.elementType()));
    put<uint32_t>(out, uint32_t(tensor.rank()));
    for (int64_t dim : tensor.shape())
      put<int64_t>(out, dim);
    put<uint64_t>(out, tensor.byteSize());
    out.append(static_cast<const char *>(tensor.data()), tensor.byteSize());
  }
  put<uint64_t>(out, fnv1a(out.data(), out.size()));
  return out;
}

bool decodeCheckpoint(const std::string &bytes, const std::string &name,
                      Checkpoint &checkpoint, std::string &error) {
  auto corrupt = [&](const std::string &why) {
    error = quotedPath(name) + " is not a valid bism checkpoint: " + why;
    return false;
  };
  if (bytes.size() < sizeof(kMagic) + 4 + 8 ||
      std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0)
    return corrupt("bad magic (not a checkpoint file)");
  uint64_t stored;
  std::memcpy(&stored, bytes.data() + bytes.size() - 8, 8);
  if (stored != fnv1a(bytes.data(), bytes.size() - 8))
    return corrupt("checksum mismatch (truncated or corrupted)");

  std::string body = bytes.substr(0, bytes.size() - 8);
  Reader reader{body, sizeof(kMagic)};
  uint32_t version;
  if (!reader.get(version) || version != kVersion)
    return corrupt("unsupported version " + std::to_string(version));
  Checkpoint result;
  uint64_t metaCount;
  if (!reader.get(metaCount))
    return corrupt("truncated header");
  for (uint64_t i = 0; i < metaCount; ++i) {
    std::string key, value;
    if (!reader.getString(key) || !reader.getString(value))
      return corrupt("truncated metadata");
    result.meta.emplace_back(std::move(key), std::move(value));
  }
  uint64_t tensorCount;
  if (!reader.get(tensorCount))
    return corrupt("truncated tensor table");
  for (uint64_t i = 0; i < tensorCount; ++i) {
    std::string tensorName;
    uint8_t type;
    uint32_t rank;
    if (!reader.getString(tensorName) || !reader.get(type) ||
        !reader.get(rank) || type > uint8_t(ElementType::i64) || rank > 16)
      return corrupt("bad tensor header");
    std::vector<int64_t> shape(rank);
    for (int64_t &dim : shape)
      if (!reader.get(dim) || dim < 0 || dim > (int64_t(1) << 40))
        return corrupt("bad shape of '" + tensorName + "'");
    uint64_t size, expected = 0;
    if (!reader.get(size))
      return corrupt("truncated tensor '" + tensorName + "'");
    // Checked before allocating: the shape must fit and match the bytes.
    if (!checkedByteSize(shape, ElementType(type), expected) ||
        size != expected || body.size() - reader.offset < size)
      return corrupt("size mismatch of '" + tensorName + "'");
    std::string sizeError;
    if (!checkTensorBytes(shape, ElementType(type), expected, sizeError))
      return corrupt("tensor '" + tensorName + "': " + sizeError);
    HostTensor tensor(ElementType(type), shape);
    std::memcpy(tensor.data(), body.data() + reader.offset, size_t(size));
    reader.offset += size_t(size);
    result.tensors.emplace_back(std::move(tensorName), std::move(tensor));
  }
  if (reader.offset != body.size())
    return corrupt("trailing bytes");
  checkpoint = std::move(result);
  return true;
}

bool writeCheckpoint(const std::string &path, const Checkpoint &checkpoint,
                     std::string &error) {
  return writeFileAtomically(path, encodeCheckpoint(checkpoint), error);
}

bool readCheckpoint(const std::string &path, Checkpoint &checkpoint,
                    std::string &error) {
  std::string bytes;
  if (!readWholeFile(path, bytes, error))
    return false;
  return decodeCheckpoint(bytes, path, checkpoint, error);
}

bool isParameterName(const std::string &name) {
  return name.rfind("theta.", 0) == 0 || name.rfind("phi.", 0) == 0;
}

bool exportCheckpointNpy(const Checkpoint &checkpoint, const std::string &dir,
                         bool all, std::vector<std::string> &written,
                         std::string &error) {
  if (!createDirectories(dir, error))
    return false;
  for (const auto &[name, tensor] : checkpoint.tensors) {
    if (!all && !isParameterName(name))
      continue;
    std::string path = dir + "/" + name + ".npy";
    if (!writeNpy(path, tensor, error))
      return false;
    written.push_back(path);
  }
  return true;
}

} // namespace bism::runtime
