//===- HostTensor.cpp - dense host buffers --------------------------------===//
#include "bism/runtime/HostTensor.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace bism::runtime {

namespace {
constexpr size_t kAlignment = 64;

void *allocateZeroed(size_t bytes) {
  // aligned_alloc needs a size that is a multiple of the alignment; allocate
  // at least one line so data() is never null (rank-0 and empty tensors).
  size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  if (rounded == 0)
    rounded = kAlignment;
  void *p = std::aligned_alloc(kAlignment, rounded);
  if (!p) {
    std::fprintf(stderr, "bism runtime: out of memory allocating %zu bytes\n",
                 bytes);
    std::abort();
  }
  std::memset(p, 0, rounded);
  return p;
}
} // namespace

size_t elementSize(ElementType type) {
  switch (type) {
  case ElementType::f32:
    return 4;
  case ElementType::f64:
    return 8;
  case ElementType::i1:
    return 1;
  case ElementType::i32:
    return 4;
  case ElementType::i64:
    return 8;
  }
  return 0;
}

const char *elementTypeName(ElementType type) {
  switch (type) {
  case ElementType::f32:
    return "f32";
  case ElementType::f64:
    return "f64";
  case ElementType::i1:
    return "i1";
  case ElementType::i32:
    return "i32";
  case ElementType::i64:
    return "i64";
  }
  return "?";
}

bool parseElementType(const std::string &name, ElementType &type) {
  static const ElementType all[] = {ElementType::f32, ElementType::f64,
                                    ElementType::i1, ElementType::i32,
                                    ElementType::i64};
  for (ElementType candidate : all) {
    if (name == elementTypeName(candidate)) {
      type = candidate;
      return true;
    }
  }
  return false;
}

void HostTensor::AlignedFree::operator()(void *p) const { std::free(p); }

bool checkedByteSize(const std::vector<int64_t> &shape, ElementType type,
                     uint64_t &bytes) {
  const uint64_t limit = uint64_t(INT64_MAX);
  uint64_t total = elementSize(type);
  for (int64_t dim : shape) {
    if (dim < 0)
      return false;
    if (dim != 0 && total > limit / uint64_t(dim))
      return false;
    total *= uint64_t(dim);
  }
  bytes = total;
  return true;
}

uint64_t physicalMemoryBytes() {
  long pages = ::sysconf(_SC_PHYS_PAGES), pageSize = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || pageSize <= 0)
    return uint64_t(1) << 34; // unknown: assume 16 GiB
  return uint64_t(pages) * uint64_t(pageSize);
}

namespace {
uint64_t budgetOverride = 0; // 0: the default
} // namespace

uint64_t memoryBudget() {
  return budgetOverride ? budgetOverride : physicalMemoryBytes() / 4 * 3;
}

void setMemoryBudget(uint64_t bytes) { budgetOverride = bytes; }

bool checkTensorBytes(const std::vector<int64_t> &shape, ElementType type,
                      uint64_t &bytes, std::string &error) {
  std::string text;
  for (int64_t dim : shape)
    text += std::to_string(dim) + "x";
  text += elementTypeName(type);
  if (!checkedByteSize(shape, type, bytes)) {
    error = text + (std::any_of(shape.begin(), shape.end(),
                                [](int64_t d) { return d < 0; })
                        ? " has a negative dimension"
                        : " is too large (more than 2^63 bytes)");
    return false;
  }
  if (bytes > memoryBudget()) {
    error = text + " needs " + std::to_string(bytes) + " bytes, more than " +
            describeMemoryBudget();
    return false;
  }
  return true;
}

std::string describeMemoryBudget() {
  return "the memory budget of " + std::to_string(memoryBudget()) +
         " bytes (" +
         (budgetOverride ? "set by --max-memory"
                         : "3/4 of physical memory; raise it with --max-memory") +
         ")";
}

bool parseMemorySize(const std::string &text, uint64_t &bytes,
                     std::string &error) {
  error = "bad memory size '" + text +
          "' (expected bytes, or a number with K, M, G or T, or a percentage "
          "of physical memory such as 50%)";
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0])))
    return false;
  char *end = nullptr;
  errno = 0;
  double value = std::strtod(text.c_str(), &end);
  std::string unit(end);
  double scale;
  if (unit.empty() || unit == "B")
    scale = 1;
  else if (unit == "K" || unit == "KB" || unit == "KiB")
    scale = 1024.0;
  else if (unit == "M" || unit == "MB" || unit == "MiB")
    scale = 1024.0 * 1024;
  else if (unit == "G" || unit == "GB" || unit == "GiB")
    scale = 1024.0 * 1024 * 1024;
  else if (unit == "T" || unit == "TB" || unit == "TiB")
    scale = 1024.0 * 1024 * 1024 * 1024;
  else if (unit == "%") {
    if (!(value > 0 && value <= 100))
      return false;
    scale = double(physicalMemoryBytes()) / 100;
  } else
    return false;
  double total = value * scale;
  if (errno == ERANGE || !(total >= 1) || total > 9.2e18)
    return false;
  bytes = uint64_t(total);
  error.clear();
  return true;
}

HostTensor::HostTensor(ElementType type, std::vector<int64_t> shape)
    : type_(type), shape_(std::move(shape)) {
  // Callers check sizes that come from input (checkedByteSize); this is the
  // last line against a wrapped size and a short buffer.
  uint64_t bytes = 0;
  if (!checkedByteSize(shape_, type_, bytes)) {
    std::fprintf(stderr,
                 "bism runtime: tensor %s has a negative dimension or more "
                 "than 2^63 bytes\n",
                 typeString().c_str());
    std::abort();
  }
  data_.reset(allocateZeroed(size_t(bytes)));
}

HostTensor::HostTensor(const HostTensor &other)
    : type_(other.type_), shape_(other.shape_) {
  if (other.data_) {
    data_.reset(allocateZeroed(byteSize()));
    std::memcpy(data_.get(), other.data_.get(), byteSize());
  }
}

HostTensor &HostTensor::operator=(const HostTensor &other) {
  if (this == &other)
    return *this;
  HostTensor copy(other);
  *this = std::move(copy);
  return *this;
}

int64_t HostTensor::numElements() const {
  int64_t n = 1;
  for (int64_t dim : shape_)
    n *= dim;
  return n;
}

std::vector<int64_t> HostTensor::strides() const {
  std::vector<int64_t> result(shape_.size(), 1);
  int64_t running = 1;
  for (size_t i = shape_.size(); i-- > 0;) {
    result[i] = running;
    running *= shape_[i];
  }
  return result;
}

std::string HostTensor::typeString() const {
  std::string s;
  for (int64_t dim : shape_) {
    s += std::to_string(dim);
    s += 'x';
  }
  s += elementTypeName(type_);
  return s;
}

double HostTensor::elementAsDouble(int64_t index) const {
  const void *p = data();
  switch (type_) {
  case ElementType::f32:
    return static_cast<const float *>(p)[index];
  case ElementType::f64:
    return static_cast<const double *>(p)[index];
  case ElementType::i1:
    return static_cast<const uint8_t *>(p)[index] ? 1.0 : 0.0;
  case ElementType::i32:
    return static_cast<const int32_t *>(p)[index];
  case ElementType::i64:
    return double(static_cast<const int64_t *>(p)[index]);
  }
  return 0.0;
}

void HostTensor::checkType(ElementType expected) const {
  if (expected != type_) {
    std::fprintf(stderr,
                 "bism runtime: HostTensor of type %s accessed as %s\n",
                 typeString().c_str(), elementTypeName(expected));
    std::abort();
  }
}

} // namespace bism::runtime
