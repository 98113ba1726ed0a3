//===- ElementwiseOps.cpp - unary, binary and variadic elementwise ops ----===//
//
// Float tensors map to the bism elementwise op of the same meaning, with a
// bism.broadcast in front of each operand whose shape differs from the
// numpy-broadcast result. Integer operands are shape arithmetic: the node
// folds at import and defines a known tensor.
//
//===----------------------------------------------------------------------===//
#include "GraphImporter.h"

#include "llvm/ADT/STLExtras.h"

#include <cmath>

using namespace mlir;

namespace bism::onnx_import {
namespace {

//===----------------------------------------------------------------------===//
// Folding of known tensors
//===----------------------------------------------------------------------===//

using FloatFunction = llvm::function_ref<double(llvm::ArrayRef<double>)>;
using IntFunction =
    llvm::function_ref<std::optional<int64_t>(llvm::ArrayRef<int64_t>)>;

/// Folds an elementwise node whose inputs are all known. Integer inputs
/// give an integer result (`intFunction`, nullopt = undefined, e.g. division
/// by zero); any float input makes it a float computation. `resultType`
/// overrides the result's data type (BOOL for comparisons).
LogicalResult foldElementwise(NodeImporter &node, FloatFunction floatFunction,
                              IntFunction intFunction, int32_t resultType = 0) {
  std::vector<const KnownTensor *> operands;
  Shape shape;
  int32_t floatType = 0;
  for (size_t i = 0; i < node.numInputs(); ++i) {
    const KnownTensor *tensor = node.known(i);
    if (!tensor)
      return node.emitError() << "input " << i << " is not known at import time";
    operands.push_back(tensor);
    std::optional<Shape> common = broadcastShapes(shape, tensor->shape);
    if (!common)
      return node.emitError() << "input shapes do not broadcast";
    shape = *common;
    if (tensor->isFloat())
      floatType = floatType == onnx::TensorProto::DOUBLE ? floatType
                                                         : tensor->dataType;
  }
  int64_t count = checkedNumElements(shape);
  if (count < 0 || count > kMaxFoldedElements)
    return node.emitError() << "folded result " << formatShape(shape)
                            << " is too large";
  KnownTensor result;
  result.shape = shape;
  std::vector<double> floatArgs(operands.size());
  std::vector<int64_t> intArgs(operands.size());
  if (floatType) {
    result.dataType = resultType ? resultType : floatType;
    for (int64_t e = 0; e < count; ++e) {
      for (size_t i = 0; i < operands.size(); ++i)
        floatArgs[i] = operands[i]->floatAt(
            broadcastSourceIndex(e, shape, operands[i]->shape));
      double value = floatFunction(floatArgs);
      if (result.dataType == onnx::TensorProto::FLOAT)
        result.floats.push_back(double(narrowToFloat(value))); // f32 arithmetic
      else if (result.isFloat())
        result.floats.push_back(value);
      else
        result.ints.push_back(int64_t(value));
    }
  } else {
    result.dataType = resultType ? resultType : onnx::TensorProto::INT64;
    for (int64_t e = 0; e < count; ++e) {
      for (size_t i = 0; i < operands.size(); ++i)
        intArgs[i] = operands[i]->intAt(
            broadcastSourceIndex(e, shape, operands[i]->shape));
      std::optional<int64_t> value = intFunction(intArgs);
      if (!value)
        return node.emitError() << "undefined integer result while folding "
                                   "(division by zero or overflow)";
      result.ints.push_back(*value);
    }
  }
  node.setKnownOutput(0, std::move(result));
  return success();
}

//===----------------------------------------------------------------------===//
// Unary
//===----------------------------------------------------------------------===//

template <typename OpTy> LogicalResult importUnary(NodeImporter &node) {
  if (failed(node.expectInputs(1, 1)))
    return failure();
  Value x = node.input(0);
  if (!x)
    return failure();
  node.setOutput(0, node.create<OpTy>(x.getType(), x));
  return success();
}

LogicalResult importNeg(NodeImporter &node) {
  if (failed(node.expectInputs(1, 1)))
    return failure();
  if (node.foldable(/*allowFloat=*/false))
    return foldElementwise(
        node, [](auto a) { return -a[0]; },
        [](auto a) -> std::optional<int64_t> {
          if (a[0] == INT64_MIN)
            return std::nullopt;
          return -a[0];
        });
  return importUnary<bism::NegOp>(node);
}

LogicalResult importAbs(NodeImporter &node) {
  if (failed(node.expectInputs(1, 1)))
    return failure();
  if (node.foldable(/*allowFloat=*/false))
    return foldElementwise(
        node, [](auto a) { return std::fabs(a[0]); },
        [](auto a) -> std::optional<int64_t> {
          if (a[0] == INT64_MIN)
            return std::nullopt;
          return a[0] < 0 ? -a[0] : a[0];
        });
  return importUnary<bism::AbsOp>(node);
}

LogicalResult importIdentity(NodeImporter &node) {
  if (failed(node.expectInputs(1, 1)))
    return failure();
  // Identity, and Dropout in inference: output 0 is input 0, whatever it is.
  if (node.known(0) && !node.known(0)->isFloat()) {
    node.setKnownOutput(0, *node.known(0));
    return success();
  }
  Value x = node.input(0);
  if (!x)
    return failure();
  node.setOutput(0, x);
  return success();
}

LogicalResult importDropout(NodeImporter &node) {
  if (failed(node.expectInputs(1, 3)) || failed(node.expectUnusedOutputsFrom(1)))
    return failure();
  if (node.hasInput(2)) {
    const KnownTensor *training = node.known(2);
    if (!training || training->numElements() != 1 || training->intAt(0) != 0)
      return node.emitError()
             << "only inference Dropout (training_mode false) is supported";
  }
  Value x = node.input(0);
  if (!x)
    return failure();
  node.setOutput(0, x);
  return success();
}

LogicalResult importLeakyRelu(NodeImporter &node) {
  if (failed(node.expectInputs(1, 1)))
    return failure();
  double alpha = node.floatAttr("alpha", 0.01);
  Value x = node.input(0);
  if (!x || node.failed())
    return failure();
  node.setOutput(0, node.create<bism::LeakyReluOp>(
                        x.getType(), x, node.builder().getF64FloatAttr(alpha)));
  return success();
}

LogicalResult importElu(NodeImporter &node) {
  if (failed(node.expectInputs(1, 1)))
    return failure();
  double alpha = node.floatAttr("alpha", 1.0);
  Value x = node.input(0);
  if (!x || node.failed())
    return failure();
  node.setOutput(0, node.create<bism::EluOp>(x.getType(), x,
                                             node.builder().getF64FloatAttr(alpha)));
  return success();
}

/// gamma * elu(x, alpha).
LogicalResult importSelu(NodeImporter &node) {
  if (failed(node.expectInputs(1, 1)))
    return failure();
  double alpha = node.floatAttr("alpha", 1.6732632423543772);
  double gamma = node.floatAttr("gamma", 1.0507009873554805);
  Value x = node.input(0);
  if (!x || node.failed())
    return failure();
  auto type = NodeImporter::typeOf(x);
  Value elu = node.create<bism::EluOp>(type, x, node.builder().getF64FloatAttr(alpha));
  node.setOutput(0, node.create<bism::MulOp>(type, node.splat(gamma, type), elu));
  return success();
}

/// A float operand given as a known tensor or an IR value, broadcast to
/// `shape`; for Clip bounds, Pow exponents and the like.
Value floatOperand(NodeImporter &node, size_t i, RankedTensorType like) {
  const KnownTensor *tensor = node.known(i);
  if (tensor && tensor->numElements() == 1 && int64_t(tensor->shape.size()) <= like.getRank())
    return node.splat(tensor->floatAt(0), like);
  if (tensor && !tensor->isFloat()) {
    KnownTensor converted = KnownTensor::fromFloats(
        tensor->shape, std::vector<double>(tensor->ints.begin(), tensor->ints.end()),
        like.getElementType().isF32() ? onnx::TensorProto::FLOAT
                                      : onnx::TensorProto::DOUBLE);
    auto type = node.tensorType(converted.shape, like.getElementType());
    Value value = node.create<bism::ConstantOp>(type, toElementsAttr(converted, type));
    return node.broadcastTo(value, like.getShape());
  }
  Value value = node.input(i);
  if (!value)
    return nullptr;
  if (NodeImporter::typeOf(value).getElementType() != like.getElementType()) {
    node.emitError() << "input " << i << " has element type "
                     << NodeImporter::typeOf(value).getElementType()
                     << ", expected " << like.getElementType();
    return nullptr;
  }
  return node.broadcastTo(value, like.getShape());
}

/// Clip: opset 11+ takes min and max as optional inputs.
LogicalResult importClip(NodeImporter &node) {
  if (failed(node.expectInputs(1, 3)))
    return failure();
  Value x = node.input(0);
  if (!x)
    return failure();
  auto type = NodeImporter::typeOf(x);
  for (size_t i : {size_t(1), size_t(2)}) {
    if (!node.hasInput(i))
      continue;
    Shape boundShape = node.inputShape(i);
    if (node.failed())
      return failure();
    if (checkedNumElements(boundShape) != 1)
      return node.emitError() << (i == 1 ? "min" : "max")
                              << " must be a scalar, got shape "
                              << formatShape(boundShape);
    Value bound = floatOperand(node, i, type);
    if (!bound)
      return failure();
    x = i == 1 ? node.create<bism::MaximumOp>(type, x, bound)
               : node.create<bism::MinimumOp>(type, x, bound);
  }
  node.setOutput(0, x);
  return success();
}

//===----------------------------------------------------------------------===//
// Binary and variadic
//===----------------------------------------------------------------------===//

enum class Arithmetic { Add, Sub, Mul, Div };

template <Arithmetic kind> LogicalResult importArithmetic(NodeImporter &node) {
  if (failed(node.expectInputs(2, 2)))
    return failure();
  if (node.foldable()) {
    return foldElementwise(
        node,
        [](llvm::ArrayRef<double> a) {
          switch (kind) {
          case Arithmetic::Add: return a[0] + a[1];
          case Arithmetic::Sub: return a[0] - a[1];
          case Arithmetic::Mul: return a[0] * a[1];
          case Arithmetic::Div: return a[0] / a[1];
          }
          return 0.0;
        },
        [](llvm::ArrayRef<int64_t> a) -> std::optional<int64_t> {
          int64_t r = 0;
          bool overflow = false;
          switch (kind) {
          case Arithmetic::Add: overflow = __builtin_add_overflow(a[0], a[1], &r); break;
          case Arithmetic::Sub: overflow = __builtin_sub_overflow(a[0], a[1], &r); break;
          case Arithmetic::Mul: overflow = __builtin_mul_overflow(a[0], a[1], &r); break;
          case Arithmetic::Div:
            if (a[1] == 0 || (a[0] == INT64_MIN && a[1] == -1))
              return std::nullopt;
            r = a[0] / a[1];
            break;
          }
          if (overflow)
            return std::nullopt;
          return r;
        });
  }
  Value lhs = node.input(0), rhs = node.input(1);
  if (!lhs || !rhs || !node.broadcastPair(lhs, rhs))
    return failure();
  Value result;
  switch (kind) {
  case Arithmetic::Add: result = node.create<bism::AddOp>(lhs.getType(), lhs, rhs); break;
  case Arithmetic::Sub: result = node.create<bism::SubOp>(lhs.getType(), lhs, rhs); break;
  case Arithmetic::Mul: result = node.create<bism::MulOp>(lhs.getType(), lhs, rhs); break;
  case Arithmetic::Div: result = node.create<bism::DivOp>(lhs.getType(), lhs, rhs); break;
  }
  node.setOutput(0, result);
  return success();
}

/// Pow: a known uniform exponent of 1, 2, 0.5 or -1 becomes identity,
/// square, sqrt or reciprocal (exact, and no log(x) in the derivative);
/// anything else is bism.pow.
LogicalResult importPow(NodeImporter &node) {
  if (failed(node.expectInputs(2, 2)))
    return failure();
  if (node.foldable(/*allowFloat=*/false))
    return foldElementwise(
        node, [](auto a) { return std::pow(a[0], a[1]); },
        [](auto a) -> std::optional<int64_t> {
          double value = std::pow(double(a[0]), double(a[1]));
          if (!(std::fabs(value) < 9.2e18))
            return std::nullopt;
          return int64_t(value);
        });
  Value x = node.input(0);
  if (!x)
    return failure();
  Shape exponentShape = node.inputShape(1);
  if (node.failed())
    return failure();
  std::optional<Shape> shape = broadcastShapes(NodeImporter::shapeOf(x), exponentShape);
  if (!shape)
    return node.emitError() << "operand shapes do not broadcast";
  x = node.broadcastTo(x, *shape);
  if (!x)
    return failure();
  auto type = NodeImporter::typeOf(x);
  if (const KnownTensor *exponent = node.known(1)) {
    bool uniform = exponent->numElements() > 0;
    for (int64_t i = 1; uniform && i < exponent->numElements(); ++i)
      uniform = exponent->floatAt(i) == exponent->floatAt(0);
    double value = uniform ? exponent->floatAt(0) : 0.0;
    if (uniform && value == 1.0) {
      node.setOutput(0, x);
      return success();
    }
    if (uniform && value == 2.0) {
      node.setOutput(0, node.create<bism::SquareOp>(type, x));
      return success();
    }
    if (uniform && value == 0.5) {
      node.setOutput(0, node.create<bism::SqrtOp>(type, x));
      return success();
    }
    if (uniform && value == -1.0) {
      node.setOutput(0, node.create<bism::ReciprocalOp>(type, x));
      return success();
    }
  }
  Value exponent = floatOperand(node, 1, type);
  if (!exponent)
    return failure();
  node.setOutput(0, node.create<bism::PowOp>(type, x, exponent));
  return success();
}

enum class Variadic { Sum, Mean, Max, Min };

template <Variadic kind> LogicalResult importVariadic(NodeImporter &node) {
  if (failed(node.expectInputs(1, size_t(-1))))
    return failure();
  if (node.foldable(/*allowFloat=*/false)) {
    auto floatFold = [](llvm::ArrayRef<double> a) {
      double r = a[0];
      for (double v : a.drop_front())
        r = kind == Variadic::Max ? std::max(r, v)
            : kind == Variadic::Min ? std::min(r, v) : r + v;
      return kind == Variadic::Mean ? r / double(a.size()) : r;
    };
    auto intFold = [](llvm::ArrayRef<int64_t> a) -> std::optional<int64_t> {
      int64_t r = a[0];
      for (int64_t v : a.drop_front()) {
        if (kind == Variadic::Max || kind == Variadic::Min)
          r = kind == Variadic::Max ? std::max(r, v) : std::min(r, v);
        else if (__builtin_add_overflow(r, v, &r))
          return std::nullopt;
      }
      return kind == Variadic::Mean ? r / int64_t(a.size()) : r;
    };
    return foldElementwise(node, floatFold, intFold);
  }
  Value result = node.input(0);
  if (!result)
    return failure();
  for (size_t i = 1; i < node.numInputs(); ++i) {
    Value next = node.input(i);
    if (!next || !node.broadcastPair(result, next))
      return failure();
    Type type = result.getType();
    switch (kind) {
    case Variadic::Sum:
    case Variadic::Mean: result = node.create<bism::AddOp>(type, result, next); break;
    case Variadic::Max: result = node.create<bism::MaximumOp>(type, result, next); break;
    case Variadic::Min: result = node.create<bism::MinimumOp>(type, result, next); break;
    }
  }
  if (kind == Variadic::Mean && node.numInputs() > 1) {
    auto type = NodeImporter::typeOf(result);
    result = node.create<bism::DivOp>(type, result,
                                      node.splat(double(node.numInputs()), type));
  }
  node.setOutput(0, result);
  return success();
}

/// Softmax and LogSoftmax over one axis (opset 13 semantics):
/// x - logsumexp(x), exponentiated for Softmax.
template <bool logarithm> LogicalResult importSoftmax(NodeImporter &node) {
  if (failed(node.expectInputs(1, 1)))
    return failure();
  Value x = node.input(0);
  if (!x)
    return failure();
  auto type = NodeImporter::typeOf(x);
  int64_t axis = node.normalizeAxis(node.intAttr("axis", -1), type.getRank());
  if (node.failed())
    return failure();
  auto reducedType = bism::ReduceLogSumExpOp::inferResultType(type, {axis}, true);
  Value lse = node.create<bism::ReduceLogSumExpOp>(
      reducedType, x, llvm::ArrayRef<int64_t>{axis}, /*keep_dims=*/true);
  Value shifted = node.create<bism::SubOp>(type, x, node.broadcastTo(lse, type.getShape()));
  node.setOutput(0, logarithm ? shifted : node.create<bism::ExpOp>(type, shifted));
  return success();
}

//===----------------------------------------------------------------------===//
// Comparisons on known tensors (shape arithmetic in dynamic-shape exports)
//===----------------------------------------------------------------------===//

enum class Comparison { Equal, Less, Greater };

template <Comparison kind> LogicalResult importComparison(NodeImporter &node) {
  if (failed(node.expectInputs(2, 2)))
    return failure();
  if (!node.foldable())
    return node.emitError() << "comparisons are supported only on tensors "
                               "known at import time (shape arithmetic)";
  auto compare = [](auto a, auto b) {
    return kind == Comparison::Equal ? a == b
           : kind == Comparison::Less ? a < b : a > b;
  };
  return foldElementwise(
      node, [&](auto a) { return double(compare(a[0], a[1])); },
      [&](auto a) -> std::optional<int64_t> { return compare(a[0], a[1]); },
      onnx::TensorProto::BOOL);
}

LogicalResult importWhere(NodeImporter &node) {
  if (failed(node.expectInputs(3, 3)))
    return failure();
  if (!node.foldable())
    return node.emitError() << "Where is supported only on tensors known at "
                               "import time (shape arithmetic)";
  if (node.known(0)->isFloat())
    return node.emitError() << "the condition must be a bool tensor";
  return foldElementwise(
      node, [](auto a) { return a[0] != 0 ? a[1] : a[2]; },
      [](auto a) -> std::optional<int64_t> { return a[0] != 0 ? a[1] : a[2]; });
}

} // namespace

void appendElementwiseOperators(std::vector<OperatorEntry> &table) {
  auto add = [&](const char *op, int64_t from, NodeHandler handler,
                 const char *notes) {
    table.push_back({op, from, 21, handler, notes});
  };
  add("Neg", 13, importNeg, "bism.neg; folds on integer shape constants");
  add("Abs", 13, importAbs, "bism.abs; folds on integer shape constants");
  add("Exp", 13, importUnary<bism::ExpOp>, "bism.exp");
  add("Log", 13, importUnary<bism::LogOp>, "bism.log");
  add("Sqrt", 13, importUnary<bism::SqrtOp>, "bism.sqrt");
  add("Reciprocal", 13, importUnary<bism::ReciprocalOp>, "bism.reciprocal");
  add("Tanh", 13, importUnary<bism::TanhOp>, "bism.tanh");
  add("Sigmoid", 13, importUnary<bism::SigmoidOp>, "bism.sigmoid");
  add("Softplus", 13, importUnary<bism::SoftplusOp>, "bism.softplus");
  add("Relu", 13, importUnary<bism::ReluOp>, "bism.relu");
  add("LeakyRelu", 13, importLeakyRelu, "bism.leaky_relu {alpha}");
  add("Elu", 13, importElu, "bism.elu {alpha}");
  add("Selu", 13, importSelu, "gamma * bism.elu {alpha}");
  add("Clip", 13, importClip,
      "bism.maximum / bism.minimum with the optional min and max inputs");
  add("Identity", 13, importIdentity, "no op");
  add("Dropout", 13, importDropout, "inference only: identity; mask output unsupported");
  add("Add", 13, importArithmetic<Arithmetic::Add>,
      "bism.add after bism.broadcast; folds on known tensors");
  add("Sub", 13, importArithmetic<Arithmetic::Sub>, "bism.sub, as Add");
  add("Mul", 13, importArithmetic<Arithmetic::Mul>, "bism.mul, as Add");
  add("Div", 13, importArithmetic<Arithmetic::Div>,
      "bism.div, as Add (integer folding truncates)");
  add("Pow", 13, importPow,
      "known exponent 1/2/0.5/-1: identity/square/sqrt/reciprocal, else bism.pow");
  add("Sum", 13, importVariadic<Variadic::Sum>, "chain of bism.add");
  add("Mean", 13, importVariadic<Variadic::Mean>, "bism.add chain / n");
  add("Max", 13, importVariadic<Variadic::Max>, "chain of bism.maximum");
  add("Min", 13, importVariadic<Variadic::Min>, "chain of bism.minimum");
  add("Softmax", 13, importSoftmax<false>, "exp(x - reduce_logsumexp(x))");
  add("LogSoftmax", 13, importSoftmax<true>, "x - reduce_logsumexp(x)");
  add("Equal", 13, importComparison<Comparison::Equal>, "known tensors only (folds)");
  add("Less", 13, importComparison<Comparison::Less>, "known tensors only (folds)");
  add("Greater", 13, importComparison<Comparison::Greater>, "known tensors only (folds)");
  add("Where", 13, importWhere, "known tensors only (folds)");
}

} // namespace bism::onnx_import
