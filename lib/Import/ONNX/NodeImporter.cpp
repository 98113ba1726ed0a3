//===- NodeImporter.cpp - typed access to one ONNX node -------------------===//
#include "GraphImporter.h"

#include "mlir/IR/BuiltinAttributes.h"

#include <cstdio>
#include <cstdlib>

using namespace mlir;

namespace bism::onnx_import {

NodeImporter::NodeImporter(GraphImporter &graph, const onnx::NodeProto &node,
                           int64_t opset, Location loc)
    : graph_(graph), node_(node), opset_(opset), loc_(loc) {}

OpBuilder &NodeImporter::builder() { return graph_.builder(); }

StringRef NodeImporter::externalDataDirectory() const {
  return graph_.externalDataDirectory();
}

InFlightDiagnostic NodeImporter::emitError() {
  failed_ = true;
  InFlightDiagnostic diag = graph_.emitError();
  diag << "node ";
  if (!node_.name().empty())
    diag << "'" << node_.name() << "' ";
  else if (node_.output_size() > 0)
    diag << "producing '" << node_.output(0) << "' ";
  diag << "(" << node_.op_type() << ", opset " << opset_ << "): ";
  return diag;
}

LogicalResult NodeImporter::expectInputs(size_t minimum, size_t maximum) {
  size_t count = numInputs();
  if (count >= minimum && count <= maximum)
    return success();
  auto diag = emitError() << "expects ";
  if (minimum == maximum)
    diag << minimum;
  else if (maximum == size_t(-1))
    diag << "at least " << minimum;
  else
    diag << minimum << " to " << maximum;
  diag << " inputs, got " << count;
  return failure();
}

LogicalResult NodeImporter::expectUnusedOutputsFrom(size_t first) {
  for (size_t i = first; i < numOutputs(); ++i)
    if (hasOutput(i) && graph_.isUsed(node_.output(int(i)))) {
      emitError() << "output " << i << " ('" << node_.output(int(i))
                  << "') is used, but the importer only produces the first "
                  << first << " output(s) of " << node_.op_type();
      return failure();
    }
  return success();
}

bool NodeImporter::hasInput(size_t i) const {
  return i < numInputs() && !node_.input(int(i)).empty();
}

ImportedValue *NodeImporter::lookupInput(size_t i) {
  if (!hasInput(i)) {
    emitError() << "input " << i << " is missing";
    return nullptr;
  }
  ImportedValue *value = graph_.lookup(node_.input(int(i)));
  if (!value)
    emitError() << "input '" << node_.input(int(i))
                << "' is not defined by an earlier node, a graph input or an "
                   "initializer";
  return value;
}

Value NodeImporter::input(size_t i) {
  ImportedValue *value = lookupInput(i);
  if (!value)
    return nullptr;
  if (value->value)
    return value->value;
  if (value->known && value->known->isFloat()) {
    if (value->known->numElements() == 0) {
      emitError() << "input '" << node_.input(int(i))
                  << "' is an empty tensor, which bism cannot represent";
      return nullptr;
    }
    return graph_.materialize(*value);
  }
  emitError() << "input '" << node_.input(int(i)) << "' is a "
              << dataTypeName(value->known ? value->known->dataType : 0)
              << " tensor; integer tensors are supported only as shape and "
                 "axes constants that fold at import";
  return nullptr;
}

const KnownTensor *NodeImporter::known(size_t i) {
  if (!hasInput(i))
    return nullptr;
  ImportedValue *value = graph_.lookup(node_.input(int(i)));
  return value ? value->known.get() : nullptr;
}

bool NodeImporter::isKnownInteger(size_t i) {
  const KnownTensor *tensor = known(i);
  return tensor && !tensor->isFloat();
}

bool NodeImporter::foldable(bool allowFloat) {
  bool anyInteger = false, anyInput = false;
  for (size_t i = 0; i < numInputs(); ++i) {
    if (!hasInput(i))
      continue;
    const KnownTensor *tensor = known(i);
    if (!tensor || tensor->numElements() > kMaxFoldedElements)
      return false;
    anyInput = true;
    anyInteger |= !tensor->isFloat();
  }
  return anyInput && (anyInteger || allowFloat);
}

Shape NodeImporter::inputShape(size_t i) {
  ImportedValue *value = lookupInput(i);
  if (!value)
    return {};
  if (value->value)
    return shapeOf(value->value);
  return value->known->shape;
}

std::optional<std::vector<int64_t>> NodeImporter::knownInts(size_t i,
                                                            StringRef what) {
  if (!hasInput(i)) {
    emitError() << what << " (input " << i << ") is missing";
    return std::nullopt;
  }
  if (!lookupInput(i))
    return std::nullopt;
  const KnownTensor *tensor = known(i);
  if (!tensor || tensor->isFloat()) {
    emitError() << what << " (input " << i << ", '" << node_.input(int(i))
                << "') must be an integer tensor known at import time "
                   "(a constant, an initializer, or folded from shapes)";
    return std::nullopt;
  }
  if (tensor->shape.size() > 1) {
    emitError() << what << " (input " << i << ") must have rank 0 or 1, got shape "
                << formatShape(tensor->shape);
    return std::nullopt;
  }
  return tensor->ints;
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

const onnx::AttributeProto *NodeImporter::attribute(StringRef name) const {
  for (const onnx::AttributeProto &attr : node_.attribute())
    if (attr.name() == name)
      return &attr;
  return nullptr;
}

namespace {
bool hasType(const onnx::AttributeProto &attr,
             onnx::AttributeProto::AttributeType type) {
  return attr.type() == type || attr.type() == onnx::AttributeProto::UNDEFINED;
}
} // namespace

int64_t NodeImporter::intAttr(StringRef name, int64_t defaultValue) {
  const onnx::AttributeProto *attr = attribute(name);
  if (!attr)
    return defaultValue;
  if (!hasType(*attr, onnx::AttributeProto::INT)) {
    emitError() << "attribute '" << name << "' must be an int";
    return defaultValue;
  }
  return attr->i();
}

double NodeImporter::floatAttr(StringRef name, double defaultValue) {
  const onnx::AttributeProto *attr = attribute(name);
  if (!attr)
    return defaultValue;
  if (attr->type() == onnx::AttributeProto::INT) // `alpha = 1` in text form
    return double(attr->i());
  if (!hasType(*attr, onnx::AttributeProto::FLOAT)) {
    emitError() << "attribute '" << name << "' must be a float";
    return defaultValue;
  }
  // The shortest decimal that rounds back to the same float.
  float exact = attr->f();
  for (int digits = 1; digits <= 9; ++digits) {
    char text[32];
    std::snprintf(text, sizeof(text), "%.*g", digits, double(exact));
    double value = std::strtod(text, nullptr);
    if (float(value) == exact)
      return value;
  }
  return double(exact);
}

std::string NodeImporter::stringAttr(StringRef name, StringRef defaultValue) {
  const onnx::AttributeProto *attr = attribute(name);
  if (!attr)
    return defaultValue.str();
  if (!hasType(*attr, onnx::AttributeProto::STRING)) {
    emitError() << "attribute '" << name << "' must be a string";
    return defaultValue.str();
  }
  return attr->s();
}

std::vector<int64_t> NodeImporter::intsAttr(StringRef name,
                                            std::vector<int64_t> defaultValue) {
  const onnx::AttributeProto *attr = attribute(name);
  if (!attr)
    return defaultValue;
  if (!hasType(*attr, onnx::AttributeProto::INTS)) {
    emitError() << "attribute '" << name << "' must be a list of ints";
    return defaultValue;
  }
  return std::vector<int64_t>(attr->ints().begin(), attr->ints().end());
}

std::vector<float> NodeImporter::floatsAttr(StringRef name) {
  const onnx::AttributeProto *attr = attribute(name);
  if (!attr)
    return {};
  if (!hasType(*attr, onnx::AttributeProto::FLOATS)) {
    emitError() << "attribute '" << name << "' must be a list of floats";
    return {};
  }
  return std::vector<float>(attr->floats().begin(), attr->floats().end());
}

const onnx::TensorProto *NodeImporter::tensorAttr(StringRef name) {
  const onnx::AttributeProto *attr = attribute(name);
  if (!attr)
    return nullptr;
  if (!hasType(*attr, onnx::AttributeProto::TENSOR) || !attr->has_t()) {
    emitError() << "attribute '" << name << "' must be a tensor";
    return nullptr;
  }
  return &attr->t();
}

//===----------------------------------------------------------------------===//
// Outputs
//===----------------------------------------------------------------------===//

bool NodeImporter::hasOutput(size_t i) const {
  return i < numOutputs() && !node_.output(int(i)).empty();
}

void NodeImporter::setOutput(size_t i, Value value) {
  if (hasOutput(i) && value)
    graph_.define(node_.output(int(i)), ImportedValue{value, nullptr});
}

void NodeImporter::setKnownOutput(size_t i, KnownTensor tensor) {
  if (hasOutput(i))
    graph_.define(node_.output(int(i)),
                  ImportedValue{nullptr,
                                std::make_shared<KnownTensor>(std::move(tensor))});
}

//===----------------------------------------------------------------------===//
// Building
//===----------------------------------------------------------------------===//

Shape NodeImporter::shapeOf(Value value) {
  auto shape = typeOf(value).getShape();
  return Shape(shape.begin(), shape.end());
}

RankedTensorType NodeImporter::typeOf(Value value) {
  return cast<RankedTensorType>(value.getType());
}

RankedTensorType NodeImporter::tensorType(ArrayRef<int64_t> shape, Type element) {
  int64_t count = checkedNumElements(shape);
  if (count <= 0) {
    emitError() << "the result shape " << formatShape(shape)
                << (count == 0 ? " is empty, which bism cannot represent"
                               : " is invalid or too large");
    return RankedTensorType::get({1}, element);
  }
  return RankedTensorType::get(shape, element);
}

int64_t NodeImporter::normalizeAxis(int64_t axis, int64_t rank, StringRef what) {
  if (axis < -rank || axis >= rank) {
    emitError() << what << " " << axis << " is out of range for rank " << rank;
    return -1;
  }
  return axis < 0 ? axis + rank : axis;
}

Value NodeImporter::broadcastTo(Value value, ArrayRef<int64_t> shape) {
  Shape from = shapeOf(value);
  if (ArrayRef<int64_t>(from) == shape)
    return value;
  std::optional<Shape> common = broadcastShapes(from, shape);
  if (from.size() > shape.size() || !common || ArrayRef<int64_t>(*common) != shape) {
    emitError() << "cannot broadcast shape " << formatShape(from) << " to "
                << formatShape(shape);
    return nullptr;
  }
  return create<bism::BroadcastOp>(
      tensorType(shape, typeOf(value).getElementType()), value);
}

Value NodeImporter::reshape(Value value, ArrayRef<int64_t> shape) {
  if (typeOf(value).getShape() == shape)
    return value;
  return create<bism::ReshapeOp>(
      tensorType(shape, typeOf(value).getElementType()), value);
}

Value NodeImporter::splat(double value, RankedTensorType type) {
  Attribute element = FloatAttr::get(type.getElementType(), value);
  return create<bism::ConstantOp>(type, DenseElementsAttr::get(type, element));
}

bool NodeImporter::broadcastPair(Value &lhs, Value &rhs) {
  Type a = typeOf(lhs).getElementType(), b = typeOf(rhs).getElementType();
  if (a != b) {
    emitError() << "operand element types differ (" << a << " and " << b << ")";
    return false;
  }
  std::optional<Shape> common = broadcastShapes(shapeOf(lhs), shapeOf(rhs));
  if (!common) {
    emitError() << "operand shapes " << formatShape(shapeOf(lhs)) << " and "
                << formatShape(shapeOf(rhs)) << " do not broadcast";
    return false;
  }
  lhs = broadcastTo(lhs, *common);
  rhs = broadcastTo(rhs, *common);
  return lhs && rhs;
}

} // namespace bism::onnx_import
