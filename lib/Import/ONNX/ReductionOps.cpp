//===- ReductionOps.cpp - ReduceSum, ReduceMean, ReduceMax, ... -----------===//
//
// Axes are an attribute before opset 18 (opset 13 for ReduceSum) and an
// optional input from then on; no axes means all axes unless
// noop_with_empty_axes is set.
//
//===----------------------------------------------------------------------===//
#include "GraphImporter.h"

#include <algorithm>

using namespace mlir;

namespace bism::onnx_import {
namespace {

enum class Reduction { Sum, Mean, Max, Min, LogSumExp, SumSquare, L2 };

/// The opset from which the reduction takes its axes as an input.
int64_t axesInputSince(Reduction kind) { return kind == Reduction::Sum ? 13 : 18; }

template <typename OpTy>
Value reduce(NodeImporter &node, Value x, llvm::ArrayRef<int64_t> axes, bool keep) {
  auto type = OpTy::inferResultType(NodeImporter::typeOf(x), axes, keep);
  return node.create<OpTy>(type, x, axes, keep);
}

template <Reduction kind> LogicalResult importReduce(NodeImporter &node) {
  bool axesAsInput = node.opset() >= axesInputSince(kind);
  if (failed(node.expectInputs(1, axesAsInput ? 2 : 1)))
    return failure();
  bool keep = node.intAttr("keepdims", 1) != 0;
  bool noopWithEmptyAxes = node.intAttr("noop_with_empty_axes", 0) != 0;
  std::vector<int64_t> axes;
  if (axesAsInput) {
    if (node.hasAttribute("axes"))
      return node.emitError() << "from opset " << axesInputSince(kind)
                              << " axes are an input, not an attribute";
    if (node.hasInput(1)) {
      auto values = node.knownInts(1, "axes");
      if (!values)
        return failure();
      axes = *values;
    }
  } else {
    axes = node.intsAttr("axes");
  }
  Value x = node.input(0);
  if (!x || node.failed())
    return failure();
  auto type = NodeImporter::typeOf(x);
  int64_t rank = type.getRank();
  if (axes.empty() && noopWithEmptyAxes) {
    node.setOutput(0, x);
    return success();
  }
  if (axes.empty())
    for (int64_t d = 0; d < rank; ++d)
      axes.push_back(d);
  for (int64_t &axis : axes)
    if ((axis = node.normalizeAxis(axis, rank)) < 0)
      return failure();
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  if (axes.empty()) { // rank 0: nothing to reduce
    node.setOutput(0, x);
    return success();
  }

  Value y;
  switch (kind) {
  case Reduction::Sum: y = reduce<bism::ReduceSumOp>(node, x, axes, keep); break;
  case Reduction::Mean: y = reduce<bism::ReduceMeanOp>(node, x, axes, keep); break;
  case Reduction::Max: y = reduce<bism::ReduceMaxOp>(node, x, axes, keep); break;
  case Reduction::LogSumExp:
    y = reduce<bism::ReduceLogSumExpOp>(node, x, axes, keep);
    break;
  case Reduction::Min: { // -max(-x)
    Value negated = node.create<bism::NegOp>(type, x);
    Value max = reduce<bism::ReduceMaxOp>(node, negated, axes, keep);
    y = node.create<bism::NegOp>(max.getType(), max);
    break;
  }
  case Reduction::SumSquare:
  case Reduction::L2: {
    Value squared = node.create<bism::SquareOp>(type, x);
    y = reduce<bism::ReduceSumOp>(node, squared, axes, keep);
    if (kind == Reduction::L2)
      y = node.create<bism::SqrtOp>(y.getType(), y);
    break;
  }
  }
  node.setOutput(0, y);
  return success();
}

} // namespace

void appendReductionOperators(std::vector<OperatorEntry> &table) {
  table.push_back({"ReduceSum", 13, 21, importReduce<Reduction::Sum>,
                   "bism.reduce_sum; axes input (constant), keepdims, "
                   "noop_with_empty_axes"});
  table.push_back({"ReduceMean", 13, 21, importReduce<Reduction::Mean>,
                   "bism.reduce_mean; axes attribute (< 18) or input (>= 18)"});
  table.push_back({"ReduceMax", 13, 21, importReduce<Reduction::Max>,
                   "bism.reduce_max; axes as ReduceMean"});
  table.push_back({"ReduceMin", 13, 21, importReduce<Reduction::Min>,
                   "-reduce_max(-x); axes as ReduceMean"});
  table.push_back({"ReduceLogSumExp", 13, 21, importReduce<Reduction::LogSumExp>,
                   "bism.reduce_logsumexp; axes as ReduceMean"});
  table.push_back({"ReduceSumSquare", 13, 21, importReduce<Reduction::SumSquare>,
                   "reduce_sum(square(x)); axes as ReduceMean"});
  table.push_back({"ReduceL2", 13, 21, importReduce<Reduction::L2>,
                   "sqrt(reduce_sum(square(x))); axes as ReduceMean"});
}

} // namespace bism::onnx_import
