//===- TensorData.cpp - ONNX tensors known at import time -----------------===//
#include "GraphImporter.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <limits>

using namespace mlir;

namespace bism::onnx_import {

int64_t checkedNumElements(llvm::ArrayRef<int64_t> shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0 || dim > kMaxElements)
      return -1;
    count *= dim;
    if (count > kMaxElements)
      return -1;
  }
  return count;
}

float narrowToFloat(double value) {
  if (value > double(std::numeric_limits<float>::max()))
    return std::numeric_limits<float>::infinity();
  if (value < -double(std::numeric_limits<float>::max()))
    return -std::numeric_limits<float>::infinity();
  return float(value);
}

std::string formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string text = "[";
  llvm::raw_string_ostream os(text);
  llvm::interleaveComma(shape, os);
  os << "]";
  return text;
}

std::string dataTypeName(int32_t dataType) {
  if (onnx::TensorProto::DataType_IsValid(dataType))
    return onnx::TensorProto::DataType_Name(
        static_cast<onnx::TensorProto::DataType>(dataType));
  return "data type " + std::to_string(dataType);
}

bool isFloatDataType(int32_t dataType) {
  return dataType == onnx::TensorProto::FLOAT ||
         dataType == onnx::TensorProto::DOUBLE;
}

bool isIntegerDataType(int32_t dataType) {
  switch (dataType) {
  case onnx::TensorProto::INT64:
  case onnx::TensorProto::INT32:
  case onnx::TensorProto::INT16:
  case onnx::TensorProto::INT8:
  case onnx::TensorProto::UINT8:
  case onnx::TensorProto::UINT16:
  case onnx::TensorProto::UINT32:
  case onnx::TensorProto::BOOL:
    return true;
  default:
    return false;
  }
}

int64_t KnownTensor::numElements() const {
  return isFloat() ? int64_t(floats.size()) : int64_t(ints.size());
}

double KnownTensor::floatAt(int64_t i) const {
  return isFloat() ? floats[size_t(i)] : double(ints[size_t(i)]);
}

int64_t KnownTensor::intAt(int64_t i) const {
  if (!isFloat())
    return ints[size_t(i)];
  double value = floats[size_t(i)]; // truncated, saturating, NaN -> 0
  if (!(value == value))
    return 0;
  if (value >= 9.2e18)
    return INT64_MAX;
  if (value <= -9.2e18)
    return INT64_MIN;
  return int64_t(value);
}

KnownTensor KnownTensor::fromInts(Shape shape, std::vector<int64_t> values,
                                  int32_t dataType) {
  KnownTensor tensor;
  tensor.dataType = dataType;
  tensor.shape = std::move(shape);
  tensor.ints = std::move(values);
  return tensor;
}

KnownTensor KnownTensor::fromFloats(Shape shape, std::vector<double> values,
                                    int32_t dataType) {
  KnownTensor tensor;
  tensor.dataType = dataType;
  tensor.shape = std::move(shape);
  tensor.floats = std::move(values);
  return tensor;
}

namespace {

/// Bytes per element in raw_data, 0 if the type is not supported.
size_t rawElementSize(int32_t dataType) {
  switch (dataType) {
  case onnx::TensorProto::FLOAT:
  case onnx::TensorProto::INT32:
  case onnx::TensorProto::UINT32:
    return 4;
  case onnx::TensorProto::DOUBLE:
  case onnx::TensorProto::INT64:
    return 8;
  case onnx::TensorProto::INT16:
  case onnx::TensorProto::UINT16:
    return 2;
  case onnx::TensorProto::INT8:
  case onnx::TensorProto::UINT8:
  case onnx::TensorProto::BOOL:
    return 1;
  default:
    return 0;
  }
}

/// Decodes `count` little-endian elements of `dataType` from `bytes`.
void decodeRaw(const char *bytes, int64_t count, int32_t dataType,
               KnownTensor &result) {
  auto load = [&](auto zero, int64_t i) {
    decltype(zero) value;
    std::memcpy(&value, bytes + size_t(i) * sizeof(value), sizeof(value));
    return value;
  };
  if (dataType == onnx::TensorProto::FLOAT) {
    result.floats.resize(size_t(count));
    for (int64_t i = 0; i < count; ++i)
      result.floats[size_t(i)] = load(float(), i);
    return;
  }
  if (dataType == onnx::TensorProto::DOUBLE) {
    result.floats.resize(size_t(count));
    for (int64_t i = 0; i < count; ++i)
      result.floats[size_t(i)] = load(double(), i);
    return;
  }
  result.ints.resize(size_t(count));
  for (int64_t i = 0; i < count; ++i) {
    int64_t value = 0;
    switch (dataType) {
    case onnx::TensorProto::INT64: value = load(int64_t(), i); break;
    case onnx::TensorProto::INT32: value = load(int32_t(), i); break;
    case onnx::TensorProto::UINT32: value = load(uint32_t(), i); break;
    case onnx::TensorProto::INT16: value = load(int16_t(), i); break;
    case onnx::TensorProto::UINT16: value = load(uint16_t(), i); break;
    case onnx::TensorProto::INT8: value = load(int8_t(), i); break;
    case onnx::TensorProto::UINT8: value = load(uint8_t(), i); break;
    case onnx::TensorProto::BOOL: value = load(uint8_t(), i) != 0; break;
    default: break;
    }
    result.ints[size_t(i)] = value;
  }
}

/// Reads the bytes of an externally stored tensor.
std::string readExternalData(const onnx::TensorProto &tensor,
                             llvm::StringRef directory, size_t expectedBytes,
                             std::string &bytes) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &entry : tensor.external_data()) {
    if (entry.key() == "location") {
      location = entry.value();
    } else if (entry.key() == "offset" || entry.key() == "length") {
      int64_t value = 0;
      if (llvm::StringRef(entry.value()).getAsInteger(10, value) || value < 0)
        return "tensor '" + tensor.name() + "' has an invalid external-data " +
               entry.key() + " '" + entry.value() + "'";
      (entry.key() == "offset" ? offset : length) = value;
    }
  }
  if (location.empty())
    return "tensor '" + tensor.name() +
           "' is stored externally but names no location";
  llvm::SmallString<256> path(location);
  if (!llvm::sys::path::is_absolute(path)) {
    path = directory;
    llvm::sys::path::append(path, location);
  }
  // A regular file (mapped, not read): a device such as /dev/zero would
  // be read without end.
  llvm::sys::fs::file_status status;
  if (!llvm::sys::fs::status(path, status) &&
      status.type() != llvm::sys::fs::file_type::regular_file)
    return "external-data file '" + std::string(path) + "' of tensor '" +
           tensor.name() + "' is not a regular file";
  auto file = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                          /*RequiresNullTerminator=*/false);
  if (!file)
    return "external-data file '" + std::string(path) + "' of tensor '" +
           tensor.name() + "' cannot be read: " + file.getError().message();
  size_t fileSize = (*file)->getBufferSize();
  if (length < 0)
    length = int64_t(fileSize) - offset;
  if (uint64_t(offset) > fileSize || uint64_t(length) > fileSize - uint64_t(offset))
    return "external-data file '" + std::string(path) + "' is too short for tensor '" +
           tensor.name() + "' (offset " + std::to_string(offset) + ", length " +
           std::to_string(length) + ", file size " + std::to_string(fileSize) + ")";
  if (size_t(length) != expectedBytes)
    return "tensor '" + tensor.name() + "' needs " + std::to_string(expectedBytes) +
           " bytes of external data but its length is " + std::to_string(length);
  bytes.assign((*file)->getBufferStart() + offset, size_t(length));
  return "";
}

} // namespace

std::string decodeTensor(const onnx::TensorProto &tensor,
                         llvm::StringRef externalDataDirectory,
                         KnownTensor &result) {
  std::string name = "tensor '" + tensor.name() + "'";
  result = KnownTensor();
  result.dataType = tensor.data_type();
  for (int64_t dim : tensor.dims())
    result.shape.push_back(dim);
  int64_t count = checkedNumElements(result.shape);
  if (count < 0)
    return name + " has an invalid shape " + formatShape(result.shape);
  size_t elementSize = rawElementSize(result.dataType);
  if (elementSize == 0)
    return name + " has element type " + dataTypeName(result.dataType) +
           "; supported: FLOAT, DOUBLE, and integer/bool shape constants";
  if (tensor.has_segment())
    return name + " is segmented, which is not supported";
  size_t expectedBytes = size_t(count) * elementSize;

  if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
    std::string bytes;
    std::string error =
        readExternalData(tensor, externalDataDirectory, expectedBytes, bytes);
    if (!error.empty())
      return error;
    decodeRaw(bytes.data(), count, result.dataType, result);
    return "";
  }
  if (tensor.has_raw_data()) {
    if (tensor.raw_data().size() != expectedBytes)
      return name + " has " + std::to_string(tensor.raw_data().size()) +
             " bytes of raw data but its shape " + formatShape(result.shape) +
             " needs " + std::to_string(expectedBytes);
    decodeRaw(tensor.raw_data().data(), count, result.dataType, result);
    return "";
  }

  auto countError = [&](int64_t held) {
    return name + " holds " + std::to_string(held) +
           " values but its shape " + formatShape(result.shape) + " needs " +
           std::to_string(count);
  };
  switch (result.dataType) {
  case onnx::TensorProto::FLOAT:
    if (tensor.float_data_size() != count)
      return countError(tensor.float_data_size());
    result.floats.assign(tensor.float_data().begin(), tensor.float_data().end());
    return "";
  case onnx::TensorProto::DOUBLE:
    if (tensor.double_data_size() != count)
      return countError(tensor.double_data_size());
    result.floats.assign(tensor.double_data().begin(), tensor.double_data().end());
    return "";
  case onnx::TensorProto::INT64:
    if (tensor.int64_data_size() != count)
      return countError(tensor.int64_data_size());
    result.ints.assign(tensor.int64_data().begin(), tensor.int64_data().end());
    return "";
  case onnx::TensorProto::UINT32:
    if (tensor.uint64_data_size() != count)
      return countError(tensor.uint64_data_size());
    result.ints.assign(tensor.uint64_data().begin(), tensor.uint64_data().end());
    return "";
  default: // int32_data holds INT32, INT16, INT8, UINT16, UINT8 and BOOL
    if (tensor.int32_data_size() != count)
      return countError(tensor.int32_data_size());
    result.ints.assign(tensor.int32_data().begin(), tensor.int32_data().end());
    if (result.dataType == onnx::TensorProto::BOOL)
      for (int64_t &value : result.ints)
        value = value != 0;
    return "";
  }
}

Type floatElementType(MLIRContext *context, int32_t dataType) {
  if (dataType == onnx::TensorProto::FLOAT)
    return Float32Type::get(context);
  if (dataType == onnx::TensorProto::DOUBLE)
    return Float64Type::get(context);
  return nullptr;
}

DenseElementsAttr toElementsAttr(const KnownTensor &tensor,
                                 RankedTensorType type) {
  if (type.getElementType().isF32()) {
    std::vector<float> values;
    for (double value : tensor.floats)
      values.push_back(narrowToFloat(value));
    return DenseElementsAttr::get(type, llvm::ArrayRef<float>(values));
  }
  return DenseElementsAttr::get(type, llvm::ArrayRef<double>(tensor.floats));
}

std::optional<Shape> broadcastShapes(llvm::ArrayRef<int64_t> a,
                                     llvm::ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  Shape result(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return std::nullopt;
    result[i] = da == 1 ? db : da;
  }
  return result;
}

int64_t broadcastSourceIndex(int64_t index, llvm::ArrayRef<int64_t> to,
                             llvm::ArrayRef<int64_t> from) {
  int64_t source = 0, stride = 1;
  size_t offset = to.size() - from.size();
  for (size_t d = to.size(); d-- > 0;) {
    int64_t coordinate = index % to[d];
    index /= to[d];
    if (d < offset)
      continue;
    int64_t size = from[d - offset];
    if (size != 1)
      source += coordinate * stride;
    stride *= size;
  }
  return source;
}

} // namespace bism::onnx_import
