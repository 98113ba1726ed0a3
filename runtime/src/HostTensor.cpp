//===- HostTensor.cpp - dense host buffers --------------------------------===//
#include "bism/runtime/HostTensor.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

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
