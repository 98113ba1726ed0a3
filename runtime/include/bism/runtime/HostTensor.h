//===- HostTensor.h - dense host buffers ------------------------*- C++ -*-===//
//
// A row-major, 64-byte-aligned host buffer with an element type and a static
// shape: what the runtime hands to compiled functions (as memref descriptors)
// and what tools read from and write to files.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_RUNTIME_HOSTTENSOR_H
#define BISM_RUNTIME_HOSTTENSOR_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bism::runtime {

enum class ElementType { f32, f64, i1, i32, i64 };

/// Bytes per element as stored in memory (i1 takes one byte, like LLVM).
size_t elementSize(ElementType type);
/// "f32", "f64", "i1", "i32", "i64".
const char *elementTypeName(ElementType type);
/// Parses a name printed by elementTypeName; false if unknown.
bool parseElementType(const std::string &name, ElementType &type);

/// The bytes a tensor of `shape` and `type` takes, checked: false when a
/// dimension is negative or the size does not fit in 63 bits. Every size
/// read from a file or a command line goes through it before allocating.
bool checkedByteSize(const std::vector<int64_t> &shape, ElementType type,
                     uint64_t &bytes);

/// This machine's physical memory in bytes.
uint64_t physicalMemoryBytes();
/// The most bytes one tensor built from input (a command-line literal, a
/// .npy, IDX or checkpoint tensor) or a compiled module's static buffers may
/// take: 3/4 of physical memory unless set (bism-run --max-memory), so a
/// size beyond it is an error message and not an allocation failure.
uint64_t memoryBudget();
void setMemoryBudget(uint64_t bytes);
/// "the memory budget of N bytes (3/4 of physical memory; ...)", for errors.
std::string describeMemoryBudget();
/// checkedByteSize, then against memoryBudget(); on failure `error` says
/// the size and the budget (callers prefix where the size came from).
bool checkTensorBytes(const std::vector<int64_t> &shape, ElementType type,
                      uint64_t &bytes, std::string &error);
/// Parses a memory size: "8G", "512M", "64K", "1000" (bytes) or "50%"
/// (of physical memory). Binary units (G = 2^30).
bool parseMemorySize(const std::string &text, uint64_t &bytes,
                     std::string &error);

template <typename T> struct ElementTypeOf;
template <> struct ElementTypeOf<float> { static constexpr ElementType value = ElementType::f32; };
template <> struct ElementTypeOf<double> { static constexpr ElementType value = ElementType::f64; };
template <> struct ElementTypeOf<bool> { static constexpr ElementType value = ElementType::i1; };
template <> struct ElementTypeOf<int32_t> { static constexpr ElementType value = ElementType::i32; };
template <> struct ElementTypeOf<int64_t> { static constexpr ElementType value = ElementType::i64; };

class HostTensor {
public:
  HostTensor() = default;
  /// Zero-filled tensor.
  HostTensor(ElementType type, std::vector<int64_t> shape);

  template <typename T>
  static HostTensor fromVector(std::vector<int64_t> shape, const std::vector<T> &values);

  HostTensor(const HostTensor &other);
  HostTensor &operator=(const HostTensor &other);
  HostTensor(HostTensor &&) noexcept = default;
  HostTensor &operator=(HostTensor &&) noexcept = default;

  ElementType elementType() const { return type_; }
  const std::vector<int64_t> &shape() const { return shape_; }
  int64_t rank() const { return int64_t(shape_.size()); }
  int64_t numElements() const;
  size_t byteSize() const { return size_t(numElements()) * elementSize(type_); }
  /// Row-major strides in elements.
  std::vector<int64_t> strides() const;

  void *data() { return data_.get(); }
  const void *data() const { return data_.get(); }
  /// Typed access; aborts if T does not match the element type.
  template <typename T> T *dataAs();
  template <typename T> const T *dataAs() const;

  /// "2x3xf32" (or "f32" for rank 0).
  std::string typeString() const;
  /// Elements converted to double (i1 as 0/1), for printing and comparisons.
  double elementAsDouble(int64_t index) const;

private:
  struct AlignedFree { void operator()(void *p) const; };
  ElementType type_ = ElementType::f32;
  std::vector<int64_t> shape_;
  std::unique_ptr<void, AlignedFree> data_;
  void checkType(ElementType expected) const;
};

template <typename T> T *HostTensor::dataAs() {
  checkType(ElementTypeOf<T>::value);
  return static_cast<T *>(data());
}
template <typename T> const T *HostTensor::dataAs() const {
  checkType(ElementTypeOf<T>::value);
  return static_cast<const T *>(data());
}

template <typename T>
HostTensor HostTensor::fromVector(std::vector<int64_t> shape, const std::vector<T> &values) {
  HostTensor tensor(ElementTypeOf<T>::value, std::move(shape));
  T *out = tensor.dataAs<T>();
  for (int64_t i = 0; i < tensor.numElements() && i < int64_t(values.size()); ++i)
    out[i] = values[size_t(i)];
  return tensor;
}

} // namespace bism::runtime

#endif // BISM_RUNTIME_HOSTTENSOR_H
