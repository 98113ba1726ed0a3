//===- ShapeOps.cpp - shape manipulation, constants and casts -------------===//
//
// Float tensors become bism.reshape / transpose / slice / concat / pad /
// reverse / broadcast. A data input known at import time (integer shape
// constants, small float constants) folds instead, so that torch's
// Shape -> Gather -> Unsqueeze -> Concat -> Reshape chains disappear.
//
//===----------------------------------------------------------------------===//
#include "GraphImporter.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace mlir;

namespace bism::onnx_import {
namespace {

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

Shape unravel(int64_t index, llvm::ArrayRef<int64_t> shape) {
  Shape coordinates(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    coordinates[d] = index % shape[d];
    index /= shape[d];
  }
  return coordinates;
}

int64_t ravel(llvm::ArrayRef<int64_t> coordinates, llvm::ArrayRef<int64_t> shape) {
  int64_t index = 0;
  for (size_t d = 0; d < shape.size(); ++d)
    index = index * shape[d] + coordinates[d];
  return index;
}

/// A known tensor of `shape` whose element i is element source(i) of `from`.
KnownTensor remap(const KnownTensor &from, Shape shape,
                  llvm::function_ref<int64_t(int64_t)> source) {
  KnownTensor result;
  result.dataType = from.dataType;
  int64_t count = checkedNumElements(shape);
  result.shape = std::move(shape);
  for (int64_t i = 0; i < count; ++i) {
    if (from.isFloat())
      result.floats.push_back(from.floats[size_t(source(i))]);
    else
      result.ints.push_back(from.ints[size_t(source(i))]);
  }
  return result;
}

KnownTensor reshaped(const KnownTensor &from, Shape shape) {
  KnownTensor result = from;
  result.shape = std::move(shape);
  return result;
}

/// Input 0 is known and folds (integers always, floats when small).
const KnownTensor *foldedData(NodeImporter &node) {
  const KnownTensor *tensor = node.known(0);
  if (tensor && (!tensor->isFloat() || tensor->numElements() <= kMaxFoldedElements))
    return tensor;
  return nullptr;
}

/// Defines output 0 as `shape`-shaped input 0: folded or bism.reshape.
LogicalResult defineReshaped(NodeImporter &node, Shape shape) {
  if (checkedNumElements(shape) == 0)
    return node.emitError() << "the result " << formatShape(shape)
                            << " is empty, which bism cannot represent";
  if (const KnownTensor *tensor = foldedData(node)) {
    node.setKnownOutput(0, reshaped(*tensor, shape));
    return success();
  }
  Value x = node.input(0);
  if (!x)
    return failure();
  node.setOutput(0, node.reshape(x, shape));
  return success();
}

//===----------------------------------------------------------------------===//
// Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Expand
//===----------------------------------------------------------------------===//

LogicalResult importReshape(NodeImporter &node) {
  if (failed(node.expectInputs(2, 2)))
    return failure();
  auto spec = node.knownInts(1, "shape");
  bool allowZero = node.intAttr("allowzero", 0) != 0;
  Shape input = node.inputShape(0);
  if (!spec || node.failed())
    return failure();
  Shape result;
  int64_t inferred = -1, product = 1;
  for (size_t i = 0; i < spec->size(); ++i) {
    int64_t value = (*spec)[i];
    if (value == -1) {
      if (inferred >= 0)
        return node.emitError() << "the shape " << formatShape(*spec)
                                << " has more than one -1";
      inferred = int64_t(i);
      result.push_back(1);
      continue;
    }
    if (value == 0 && !allowZero) {
      if (i >= input.size())
        return node.emitError() << "the shape " << formatShape(*spec)
                                << " copies dimension " << i << " (0) of "
                                << formatShape(input) << ", which has none";
      value = input[i];
    }
    if (value <= 0)
      return node.emitError() << "the shape " << formatShape(*spec)
                              << " has a non-positive size";
    result.push_back(value);
    product *= value;
    if (product > kMaxElements)
      return node.emitError() << "the shape " << formatShape(*spec) << " is too large";
  }
  int64_t total = checkedNumElements(input);
  if (inferred >= 0) {
    if (total % product != 0)
      return node.emitError() << "cannot reshape " << formatShape(input)
                              << " to " << formatShape(*spec);
    result[size_t(inferred)] = total / product;
  } else if (product != total) {
    return node.emitError() << "cannot reshape " << formatShape(input) << " to "
                            << formatShape(*spec) << " (element counts differ)";
  }
  return defineReshaped(node, result);
}

LogicalResult importFlatten(NodeImporter &node) {
  if (failed(node.expectInputs(1, 1)))
    return failure();
  Shape input = node.inputShape(0);
  int64_t axis = node.intAttr("axis", 1);
  if (node.failed())
    return failure();
  int64_t rank = int64_t(input.size());
  if (axis < -rank || axis > rank)
    return node.emitError() << "axis " << axis << " is out of range for rank " << rank;
  if (axis < 0)
    axis += rank;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < rank; ++d)
    (d < axis ? outer : inner) *= input[size_t(d)];
  return defineReshaped(node, {outer, inner});
}

LogicalResult importSqueeze(NodeImporter &node) {
  if (failed(node.expectInputs(1, 2)))
    return failure();
  Shape input = node.inputShape(0);
  if (node.failed())
    return failure();
  int64_t rank = int64_t(input.size());
  std::vector<bool> drop(input.size(), false);
  if (node.hasInput(1)) {
    auto axes = node.knownInts(1, "axes");
    if (!axes)
      return failure();
    for (int64_t axis : *axes) {
      int64_t a = node.normalizeAxis(axis, rank);
      if (a < 0)
        return failure();
      if (input[size_t(a)] != 1)
        return node.emitError() << "cannot squeeze axis " << axis << " of "
                                << formatShape(input) << " (size is not 1)";
      drop[size_t(a)] = true;
    }
  } else {
    for (int64_t d = 0; d < rank; ++d)
      drop[size_t(d)] = input[size_t(d)] == 1;
  }
  Shape result;
  for (int64_t d = 0; d < rank; ++d)
    if (!drop[size_t(d)])
      result.push_back(input[size_t(d)]);
  return defineReshaped(node, result);
}

LogicalResult importUnsqueeze(NodeImporter &node) {
  if (failed(node.expectInputs(2, 2)))
    return failure();
  Shape input = node.inputShape(0);
  auto axes = node.knownInts(1, "axes");
  if (!axes || node.failed())
    return failure();
  int64_t rank = int64_t(input.size() + axes->size());
  std::vector<bool> inserted(size_t(rank), false);
  for (int64_t axis : *axes) {
    int64_t a = node.normalizeAxis(axis, rank);
    if (a < 0)
      return failure();
    if (inserted[size_t(a)])
      return node.emitError() << "axis " << axis << " is listed twice";
    inserted[size_t(a)] = true;
  }
  Shape result;
  size_t next = 0;
  for (int64_t d = 0; d < rank; ++d)
    result.push_back(inserted[size_t(d)] ? 1 : input[next++]);
  return defineReshaped(node, result);
}

LogicalResult importTranspose(NodeImporter &node) {
  if (failed(node.expectInputs(1, 1)))
    return failure();
  Shape input = node.inputShape(0);
  if (node.failed())
    return failure();
  int64_t rank = int64_t(input.size());
  Shape reversed(input.size());
  for (int64_t d = 0; d < rank; ++d)
    reversed[size_t(d)] = rank - 1 - d;
  std::vector<int64_t> perm = node.intsAttr("perm", reversed);
  if (node.failed())
    return failure();
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> identity(input.size());
  std::iota(identity.begin(), identity.end(), 0);
  if (sorted != identity)
    return node.emitError() << "perm " << formatShape(perm)
                            << " is not a permutation of the " << rank << " axes";
  Shape result;
  for (int64_t p : perm)
    result.push_back(input[size_t(p)]);
  if (const KnownTensor *tensor = foldedData(node)) {
    node.setKnownOutput(0, remap(*tensor, result, [&](int64_t i) {
      Shape out = unravel(i, result), in(input.size());
      for (size_t d = 0; d < perm.size(); ++d)
        in[size_t(perm[d])] = out[d];
      return ravel(in, input);
    }));
    return success();
  }
  Value x = node.input(0);
  if (!x)
    return failure();
  if (perm == identity) {
    node.setOutput(0, x);
    return success();
  }
  node.setOutput(0, node.create<bism::TransposeOp>(
                        node.tensorType(result, NodeImporter::typeOf(x).getElementType()),
                        x, llvm::ArrayRef<int64_t>(perm)));
  return success();
}

/// Expand: bidirectional broadcast to a known shape.
LogicalResult importExpand(NodeImporter &node) {
  if (failed(node.expectInputs(2, 2)))
    return failure();
  Shape input = node.inputShape(0);
  auto target = node.knownInts(1, "shape");
  if (!target || node.failed())
    return failure();
  std::optional<Shape> result = broadcastShapes(input, *target);
  if (!result || checkedNumElements(*result) <= 0)
    return node.emitError() << "cannot expand " << formatShape(input) << " to "
                            << formatShape(*target);
  const KnownTensor *tensor = foldedData(node);
  if (tensor && checkedNumElements(*result) <= kMaxFoldedElements) {
    node.setKnownOutput(0, remap(*tensor, *result, [&](int64_t i) {
      return broadcastSourceIndex(i, *result, input);
    }));
    return success();
  }
  Value x = node.input(0);
  if (!x)
    return failure();
  Value y = node.broadcastTo(x, *result);
  if (!y)
    return failure();
  node.setOutput(0, y);
  return success();
}

//===----------------------------------------------------------------------===//
// Concat, Split, Slice, Gather, Pad
//===----------------------------------------------------------------------===//

LogicalResult importConcat(NodeImporter &node) {
  if (failed(node.expectInputs(1, size_t(-1))))
    return failure();
  if (!node.hasAttribute("axis"))
    return node.emitError() << "the 'axis' attribute is required";
  int64_t axisAttr = node.intAttr("axis", 0);
  std::vector<Shape> shapes;
  for (size_t i = 0; i < node.numInputs(); ++i)
    shapes.push_back(node.inputShape(i));
  if (node.failed())
    return failure();
  int64_t rank = int64_t(shapes[0].size());
  int64_t axis = node.normalizeAxis(axisAttr, rank);
  if (axis < 0)
    return failure();
  Shape result = shapes[0];
  result[size_t(axis)] = 0;
  for (size_t i = 0; i < shapes.size(); ++i) {
    bool compatible = int64_t(shapes[i].size()) == rank;
    for (int64_t d = 0; compatible && d < rank; ++d)
      compatible = d == axis || shapes[i][size_t(d)] == shapes[0][size_t(d)];
    if (!compatible)
      return node.emitError() << "input shapes " << formatShape(shapes[0])
                              << " and " << formatShape(shapes[i])
                              << " differ outside axis " << axis;
    result[size_t(axis)] += shapes[i][size_t(axis)];
  }

  if (node.foldable()) {
    std::vector<const KnownTensor *> parts;
    for (size_t i = 0; i < node.numInputs(); ++i)
      parts.push_back(node.known(i));
    KnownTensor folded;
    folded.dataType = parts[0]->dataType;
    folded.shape = result;
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < rank; ++d)
      if (d < axis)
        outer *= result[size_t(d)];
      else if (d > axis)
        inner *= result[size_t(d)];
    for (const KnownTensor *part : parts)
      if (part->isFloat() != parts[0]->isFloat())
        return node.emitError() << "inputs mix integer and float tensors";
    for (int64_t o = 0; o < outer; ++o)
      for (const KnownTensor *part : parts) {
        int64_t block = part->shape[size_t(axis)] * inner;
        for (int64_t j = 0; j < block; ++j) {
          if (folded.isFloat())
            folded.floats.push_back(part->floats[size_t(o * block + j)]);
          else
            folded.ints.push_back(part->ints[size_t(o * block + j)]);
        }
      }
    node.setKnownOutput(0, std::move(folded));
    return success();
  }

  SmallVector<Value> values;
  for (size_t i = 0; i < node.numInputs(); ++i) {
    if (checkedNumElements(shapes[i]) == 0)
      continue; // an empty piece contributes nothing
    Value value = node.input(i);
    if (!value)
      return failure();
    if (!values.empty() && NodeImporter::typeOf(value).getElementType() !=
                               NodeImporter::typeOf(values[0]).getElementType())
      return node.emitError() << "inputs have different element types";
    values.push_back(value);
  }
  if (values.empty())
    return node.emitError() << "all inputs are empty";
  if (values.size() == 1) {
    node.setOutput(0, values[0]);
    return success();
  }
  node.setOutput(0, node.create<bism::ConcatOp>(
                        node.tensorType(
                            result, NodeImporter::typeOf(values[0]).getElementType()),
                        ValueRange(values), uint64_t(axis)));
  return success();
}

/// A bism.slice of `x` along one axis: [start, start + size).
Value sliceAxis(NodeImporter &node, Value x, int64_t axis, int64_t start,
                int64_t size, int64_t stride = 1) {
  Shape shape = NodeImporter::shapeOf(x);
  Shape starts(shape.size(), 0), limits = shape, strides(shape.size(), 1),
      result = shape;
  starts[size_t(axis)] = start;
  limits[size_t(axis)] = start + (size - 1) * stride + 1;
  strides[size_t(axis)] = stride;
  result[size_t(axis)] = size;
  if (result == shape)
    return x;
  return node.create<bism::SliceOp>(
      node.tensorType(result, NodeImporter::typeOf(x).getElementType()),
      x, llvm::ArrayRef<int64_t>(starts), llvm::ArrayRef<int64_t>(limits),
      llvm::ArrayRef<int64_t>(strides));
}

LogicalResult importSplit(NodeImporter &node) {
  if (failed(node.expectInputs(1, 2)))
    return failure();
  Shape input = node.inputShape(0);
  int64_t axisAttr = node.intAttr("axis", 0);
  if (node.failed())
    return failure();
  int64_t axis = node.normalizeAxis(axisAttr, int64_t(input.size()));
  if (axis < 0)
    return failure();
  int64_t size = input[size_t(axis)];
  std::vector<int64_t> sizes;
  int64_t outputs = int64_t(node.numOutputs());
  if (node.hasInput(1)) {
    auto split = node.knownInts(1, "split");
    if (!split)
      return failure();
    sizes = *split;
  } else if (node.opset() >= 18 && node.hasAttribute("num_outputs")) {
    int64_t parts = node.intAttr("num_outputs", 1);
    if (parts < 1 || parts != outputs)
      return node.emitError() << "num_outputs " << parts << " but the node has "
                              << outputs << " outputs";
    int64_t chunk = (size + parts - 1) / parts;
    for (int64_t i = 0; i < parts; ++i)
      sizes.push_back(std::max<int64_t>(0, std::min(chunk, size - i * chunk)));
  } else {
    if (outputs < 1 || size % outputs != 0)
      return node.emitError() << "cannot split size " << size << " into "
                              << outputs << " equal parts";
    sizes.assign(size_t(outputs), size / outputs);
  }
  if (int64_t(sizes.size()) != outputs)
    return node.emitError() << sizes.size() << " split sizes for " << outputs
                            << " outputs";
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0 || s > size)
      return node.emitError() << "split size " << s << " is out of range";
    total += s;
  }
  if (total != size)
    return node.emitError() << "split sizes " << formatShape(sizes)
                            << " do not add up to " << size;

  const KnownTensor *tensor = foldedData(node);
  Value x = tensor ? nullptr : node.input(0);
  if (!tensor && !x)
    return failure();
  int64_t offset = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    int64_t start = offset;
    offset += sizes[i];
    if (!node.hasOutput(i))
      continue;
    if (sizes[i] == 0)
      return node.emitError() << "output " << i << " would be empty";
    if (tensor) {
      Shape result = input;
      result[size_t(axis)] = sizes[i];
      node.setKnownOutput(i, remap(*tensor, result, [&](int64_t e) {
        Shape c = unravel(e, result);
        c[size_t(axis)] += start;
        return ravel(c, input);
      }));
    } else {
      node.setOutput(i, sliceAxis(node, x, axis, start, sizes[i]));
    }
  }
  return success();
}

/// Slice (opset 10+ form: starts, ends, axes, steps as inputs). Negative
/// steps reverse the axis (bism.reverse) and slice forwards.
LogicalResult importSlice(NodeImporter &node) {
  if (failed(node.expectInputs(3, 5)))
    return failure();
  Shape input = node.inputShape(0);
  auto starts = node.knownInts(1, "starts");
  auto ends = node.knownInts(2, "ends");
  if (!starts || !ends || node.failed())
    return failure();
  int64_t rank = int64_t(input.size());
  std::vector<int64_t> axes, steps(starts->size(), 1);
  if (node.hasInput(3)) {
    auto values = node.knownInts(3, "axes");
    if (!values)
      return failure();
    axes = *values;
  } else {
    for (size_t i = 0; i < starts->size(); ++i)
      axes.push_back(int64_t(i));
  }
  if (node.hasInput(4)) {
    auto values = node.knownInts(4, "steps");
    if (!values)
      return failure();
    steps = *values;
  }
  if (ends->size() != starts->size() || axes.size() != starts->size() ||
      steps.size() != starts->size())
    return node.emitError() << "starts, ends, axes and steps differ in length";

  Shape begin(input.size(), 0), limit = input, stride(input.size(), 1),
      result = input;
  std::vector<bool> reversed(input.size(), false), seen(input.size(), false);
  for (size_t j = 0; j < axes.size(); ++j) {
    int64_t a = node.normalizeAxis(axes[j], rank);
    if (a < 0)
      return failure();
    if (seen[size_t(a)])
      return node.emitError() << "axis " << axes[j] << " is listed twice";
    seen[size_t(a)] = true;
    int64_t d = input[size_t(a)], step = steps[j];
    int64_t s = (*starts)[j], e = (*ends)[j];
    if (step == 0)
      return node.emitError() << "step 0 on axis " << axes[j];
    if (s < 0)
      s = s < -d ? -1 - d : s + d; // clamped below anyway
    if (e < 0)
      e = e < -d ? -1 - d : e + d;
    if (step > 0) {
      s = std::clamp<int64_t>(s, 0, d);
      e = std::clamp<int64_t>(e, 0, d);
      begin[size_t(a)] = s;
      limit[size_t(a)] = e;
      stride[size_t(a)] = step;
    } else {
      s = std::clamp<int64_t>(s, 0, d - 1);
      e = std::clamp<int64_t>(e, -1, d - 1);
      // In the reversed axis, index i is d - 1 - i.
      reversed[size_t(a)] = true;
      begin[size_t(a)] = d - 1 - s;
      limit[size_t(a)] = d - 1 - e;
      stride[size_t(a)] = step == INT64_MIN ? d : -step;
    }
    if (limit[size_t(a)] <= begin[size_t(a)])
      return node.emitError() << "the slice of axis " << axes[j]
                              << " is empty, which bism cannot represent";
    result[size_t(a)] = (limit[size_t(a)] - begin[size_t(a)] + stride[size_t(a)] - 1) /
                        stride[size_t(a)];
    limit[size_t(a)] = begin[size_t(a)] + (result[size_t(a)] - 1) * stride[size_t(a)] + 1;
  }

  if (const KnownTensor *tensor = foldedData(node)) {
    node.setKnownOutput(0, remap(*tensor, result, [&](int64_t i) {
      Shape c = unravel(i, result);
      for (size_t d = 0; d < c.size(); ++d) {
        c[d] = begin[d] + c[d] * stride[d];
        if (reversed[d])
          c[d] = input[d] - 1 - c[d];
      }
      return ravel(c, input);
    }));
    return success();
  }
  Value x = node.input(0);
  if (!x)
    return failure();
  SmallVector<int64_t> reverseDims;
  for (int64_t d = 0; d < rank; ++d)
    if (reversed[size_t(d)] && input[size_t(d)] > 1)
      reverseDims.push_back(d);
  if (!reverseDims.empty())
    x = node.create<bism::ReverseOp>(x.getType(), x, llvm::ArrayRef<int64_t>(reverseDims));
  if (result != input)
    x = node.create<bism::SliceOp>(
        node.tensorType(result, NodeImporter::typeOf(x).getElementType()),
        x, llvm::ArrayRef<int64_t>(begin), llvm::ArrayRef<int64_t>(limit),
        llvm::ArrayRef<int64_t>(stride));
  node.setOutput(0, x);
  return success();
}

/// Gather with indices known at import: folded for known data, else slices
/// (one strided slice for an arithmetic progression, else one per index
/// joined by bism.concat) and a reshape.
LogicalResult importGather(NodeImporter &node) {
  if (failed(node.expectInputs(2, 2)))
    return failure();
  Shape input = node.inputShape(0);
  int64_t axisAttr = node.intAttr("axis", 0);
  if (node.failed())
    return failure();
  const KnownTensor *indices = node.known(1);
  if (!indices || indices->isFloat())
    return node.emitError() << "the indices must be an integer tensor known at "
                               "import time";
  int64_t axis = node.normalizeAxis(axisAttr, int64_t(input.size()));
  if (axis < 0)
    return failure();
  int64_t size = input[size_t(axis)];
  std::vector<int64_t> picks;
  for (int64_t index : indices->ints) {
    if (index < -size || index >= size)
      return node.emitError() << "index " << index << " is out of range for size " << size;
    picks.push_back(index < 0 ? index + size : index);
  }
  Shape result(input.begin(), input.begin() + axis);
  result.insert(result.end(), indices->shape.begin(), indices->shape.end());
  result.insert(result.end(), input.begin() + axis + 1, input.end());
  if (picks.empty() || checkedNumElements(result) <= 0)
    return node.emitError() << "the result is empty, which bism cannot represent";

  const KnownTensor *tensor = foldedData(node);
  if (tensor && checkedNumElements(result) <= kMaxFoldedElements) {
    size_t indexRank = indices->shape.size();
    node.setKnownOutput(0, remap(*tensor, result, [&](int64_t i) {
      Shape c = unravel(i, result);
      Shape indexCoordinates(c.begin() + axis, c.begin() + axis + int64_t(indexRank));
      int64_t pick = picks[size_t(ravel(indexCoordinates, indices->shape))];
      Shape source(c.begin(), c.begin() + axis);
      source.push_back(pick);
      source.insert(source.end(), c.begin() + axis + int64_t(indexRank), c.end());
      return ravel(source, input);
    }));
    return success();
  }
  Value x = node.input(0);
  if (!x)
    return failure();
  int64_t count = int64_t(picks.size());
  int64_t step = count > 1 ? picks[1] - picks[0] : 1;
  bool progression = step >= 1;
  for (int64_t i = 1; progression && i < count; ++i)
    progression = picks[size_t(i)] - picks[size_t(i - 1)] == step;
  Value gathered;
  if (progression) {
    gathered = sliceAxis(node, x, axis, picks[0], count, step);
  } else {
    if (count > kMaxFoldedElements)
      return node.emitError() << count << " scattered indices are too many to "
                                          "gather with slices";
    SmallVector<Value> pieces;
    for (int64_t pick : picks)
      pieces.push_back(sliceAxis(node, x, axis, pick, 1));
    Shape joined = input;
    joined[size_t(axis)] = count;
    gathered = node.create<bism::ConcatOp>(
        node.tensorType(joined, NodeImporter::typeOf(x).getElementType()),
        ValueRange(pieces), uint64_t(axis));
  }
  node.setOutput(0, node.reshape(gathered, result));
  return success();
}

/// Pad, constant mode with zeros: bism.pad, then a slice for negative pads.
LogicalResult importPad(NodeImporter &node) {
  if (failed(node.expectInputs(2, 4)))
    return failure();
  std::string mode = node.stringAttr("mode", "constant");
  Shape input = node.inputShape(0);
  auto pads = node.knownInts(1, "pads");
  if (!pads || node.failed())
    return failure();
  if (mode != "constant")
    return node.emitError() << "only mode 'constant' is supported, got '" << mode << "'";
  if (node.hasInput(2)) {
    const KnownTensor *value = node.known(2);
    if (!value || value->numElements() != 1 || value->floatAt(0) != 0.0)
      return node.emitError() << "only zero padding is supported";
  }
  int64_t rank = int64_t(input.size());
  std::vector<int64_t> axes;
  if (node.hasInput(3)) {
    auto values = node.knownInts(3, "axes");
    if (!values)
      return failure();
    for (int64_t axis : *values) {
      int64_t a = node.normalizeAxis(axis, rank);
      if (a < 0)
        return failure();
      axes.push_back(a);
    }
  } else {
    for (int64_t d = 0; d < rank; ++d)
      axes.push_back(d);
  }
  if (llvm::any_of(*pads, [](int64_t p) { return p < -kMaxElements || p > kMaxElements; }))
    return node.emitError() << "pads " << formatShape(*pads) << " are out of range";
  if (pads->size() != 2 * axes.size())
    return node.emitError() << "pads needs " << 2 * axes.size() << " values, got "
                            << pads->size();
  Shape low(input.size(), 0), high(input.size(), 0), interior(input.size(), 0);
  Shape cutLow(input.size(), 0), cutHigh(input.size(), 0), padded = input;
  for (size_t j = 0; j < axes.size(); ++j) {
    size_t a = size_t(axes[j]);
    int64_t before = (*pads)[j], after = (*pads)[j + axes.size()];
    low[a] = std::max<int64_t>(before, 0);
    high[a] = std::max<int64_t>(after, 0);
    cutLow[a] = std::max<int64_t>(-before, 0);
    cutHigh[a] = std::max<int64_t>(-after, 0);
    padded[a] = input[a] + low[a] + high[a];
    if (padded[a] - cutLow[a] - cutHigh[a] <= 0)
      return node.emitError() << "the padding leaves axis " << a << " empty";
  }
  Value x = node.input(0);
  if (!x)
    return failure();
  Type element = NodeImporter::typeOf(x).getElementType();
  if (padded != input)
    x = node.create<bism::PadOp>(node.tensorType(padded, element), x,
                                 llvm::ArrayRef<int64_t>(low),
                                 llvm::ArrayRef<int64_t>(high),
                                 llvm::ArrayRef<int64_t>(interior));
  if (llvm::any_of(cutLow, [](int64_t v) { return v > 0; }) ||
      llvm::any_of(cutHigh, [](int64_t v) { return v > 0; })) {
    Shape limits(input.size()), result(input.size());
    for (size_t d = 0; d < input.size(); ++d) {
      limits[d] = padded[d] - cutHigh[d];
      result[d] = limits[d] - cutLow[d];
    }
    x = node.create<bism::SliceOp>(node.tensorType(result, element), x,
                                   llvm::ArrayRef<int64_t>(cutLow),
                                   llvm::ArrayRef<int64_t>(limits),
                                   llvm::ArrayRef<int64_t>(Shape(input.size(), 1)));
  }
  node.setOutput(0, x);
  return success();
}

//===----------------------------------------------------------------------===//
// Constants, casts and shapes
//===----------------------------------------------------------------------===//

LogicalResult importConstant(NodeImporter &node) {
  if (failed(node.expectInputs(0, 0)))
    return failure();
  KnownTensor tensor;
  if (node.hasAttribute("value")) {
    const onnx::TensorProto *proto = node.tensorAttr("value");
    if (!proto)
      return failure();
    std::string error = decodeTensor(*proto, node.externalDataDirectory(), tensor);
    if (!error.empty())
      return node.emitError() << error;
  } else if (node.hasAttribute("value_float")) {
    // The exact float value (not floatAttr's widened decimal): this is
    // FLOAT data, and a later Cast to DOUBLE must see 0.1f as 0.1f.
    const onnx::AttributeProto *attr = node.attribute("value_float");
    tensor = KnownTensor::fromFloats({}, {double(attr->f())},
                                     onnx::TensorProto::FLOAT);
  } else if (node.hasAttribute("value_floats")) {
    std::vector<float> values = node.floatsAttr("value_floats");
    tensor = KnownTensor::fromFloats({int64_t(values.size())},
                                     std::vector<double>(values.begin(), values.end()),
                                     onnx::TensorProto::FLOAT);
  } else if (node.hasAttribute("value_int")) {
    tensor = KnownTensor::fromInts({}, {node.intAttr("value_int", 0)});
  } else if (node.hasAttribute("value_ints")) {
    std::vector<int64_t> values = node.intsAttr("value_ints");
    tensor = KnownTensor::fromInts({int64_t(values.size())}, values);
  } else {
    return node.emitError() << "only value, value_float(s) and value_int(s) "
                               "constants are supported";
  }
  if (node.failed())
    return failure();
  node.setKnownOutput(0, std::move(tensor));
  return success();
}

LogicalResult importConstantOfShape(NodeImporter &node) {
  if (failed(node.expectInputs(1, 1)))
    return failure();
  auto shape = node.knownInts(0, "shape");
  if (!shape)
    return failure();
  KnownTensor fill = KnownTensor::fromFloats({1}, {0.0}, onnx::TensorProto::FLOAT);
  if (node.hasAttribute("value")) {
    const onnx::TensorProto *proto = node.tensorAttr("value");
    if (!proto)
      return failure();
    std::string error = decodeTensor(*proto, node.externalDataDirectory(), fill);
    if (!error.empty())
      return node.emitError() << error;
    if (fill.numElements() != 1)
      return node.emitError() << "'value' must hold one element";
  }
  int64_t count = checkedNumElements(*shape);
  if (count <= 0)
    return node.emitError() << "invalid or empty shape " << formatShape(*shape);
  if (count <= kMaxFoldedElements) {
    node.setKnownOutput(0, remap(fill, *shape, [](int64_t) { return int64_t(0); }));
    return success();
  }
  if (!fill.isFloat())
    return node.emitError() << "an integer tensor of shape " << formatShape(*shape)
                            << " is too large to fold";
  // Large float fills are splat constants in the IR.
  node.setOutput(0, node.splat(fill.floatAt(0),
                               node.tensorType(*shape, floatElementType(
                                                           node.context(),
                                                           fill.dataType))));
  return success();
}

LogicalResult importCast(NodeImporter &node) {
  if (failed(node.expectInputs(1, 1)))
    return failure();
  if (!node.hasAttribute("to"))
    return node.emitError() << "the 'to' attribute is required";
  int32_t to = int32_t(node.intAttr("to", 0));
  if (node.failed())
    return failure();
  if (const KnownTensor *tensor = foldedData(node)) {
    KnownTensor result;
    result.dataType = to;
    result.shape = tensor->shape;
    if (isFloatDataType(to)) {
      for (int64_t i = 0; i < tensor->numElements(); ++i) {
        double value = tensor->floatAt(i);
        result.floats.push_back(to == onnx::TensorProto::FLOAT ? double(narrowToFloat(value))
                                                               : value);
      }
    } else if (isIntegerDataType(to)) {
      for (int64_t i = 0; i < tensor->numElements(); ++i) {
        double value = tensor->floatAt(i);
        if (!std::isfinite(value))
          return node.emitError() << "cannot cast " << value << " to "
                                  << dataTypeName(to);
        int64_t integer = tensor->intAt(i);
        result.ints.push_back(to == onnx::TensorProto::BOOL ? integer != 0 : integer);
      }
    } else {
      return node.emitError() << "casts to " << dataTypeName(to)
                              << " are not supported";
    }
    node.setKnownOutput(0, std::move(result));
    return success();
  }
  Value x = node.input(0);
  if (!x)
    return failure();
  Type element = floatElementType(node.context(), to);
  if (!element)
    return node.emitError() << "a computed tensor can only be cast to FLOAT or "
                               "DOUBLE, not "
                            << dataTypeName(to);
  auto type = NodeImporter::typeOf(x);
  if (type.getElementType() == element) {
    node.setOutput(0, x);
    return success();
  }
  node.setOutput(0, node.create<bism::ConvertOp>(type.clone(element), x));
  return success();
}

LogicalResult importShape(NodeImporter &node) {
  if (failed(node.expectInputs(1, 1)))
    return failure();
  Shape input = node.inputShape(0);
  int64_t start = node.intAttr("start", 0);
  int64_t rank = int64_t(input.size());
  int64_t end = node.intAttr("end", rank);
  if (node.failed())
    return failure();
  if (start < 0)
    start += rank;
  if (end < 0)
    end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  std::vector<int64_t> dims(input.begin() + start, input.begin() + end);
  node.setKnownOutput(0, KnownTensor::fromInts({int64_t(dims.size())}, dims));
  return success();
}

LogicalResult importSize(NodeImporter &node) {
  if (failed(node.expectInputs(1, 1)))
    return failure();
  Shape input = node.inputShape(0);
  if (node.failed())
    return failure();
  node.setKnownOutput(0, KnownTensor::fromInts({}, {checkedNumElements(input)}));
  return success();
}

LogicalResult importRange(NodeImporter &node) {
  if (failed(node.expectInputs(3, 3)))
    return failure();
  if (!node.foldable())
    return node.emitError() << "start, limit and delta must be known at import time";
  const KnownTensor *start = node.known(0), *limit = node.known(1),
                    *delta = node.known(2);
  if (start->numElements() != 1 || limit->numElements() != 1 ||
      delta->numElements() != 1)
    return node.emitError() << "start, limit and delta must be scalars";
  double d = delta->floatAt(0);
  if (d == 0)
    return node.emitError() << "delta is 0";
  double n = std::ceil((limit->floatAt(0) - start->floatAt(0)) / d);
  int64_t count = n > 0 ? int64_t(std::min(n, double(kMaxFoldedElements + 1))) : 0;
  if (count > kMaxFoldedElements)
    return node.emitError() << "the range is too long to fold";
  KnownTensor result;
  result.dataType = start->dataType;
  result.shape = {count};
  for (int64_t i = 0; i < count; ++i) {
    if (start->isFloat()) {
      double value = start->floatAt(0) + double(i) * d;
      result.floats.push_back(start->dataType == onnx::TensorProto::FLOAT
                                  ? double(narrowToFloat(value))
                                  : value);
      continue;
    }
    int64_t value = 0, offset = 0;
    if (__builtin_mul_overflow(i, delta->intAt(0), &offset) ||
        __builtin_add_overflow(start->intAt(0), offset, &value))
      return node.emitError() << "the range overflows";
    result.ints.push_back(value);
  }
  node.setKnownOutput(0, std::move(result));
  return success();
}

} // namespace

void appendShapeOperators(std::vector<OperatorEntry> &table) {
  auto add = [&](const char *op, NodeHandler handler, const char *notes) {
    table.push_back({op, 13, 21, handler, notes});
  };
  add("Reshape", importReshape,
      "bism.reshape; shape input known at import (0 copies, -1 infers, allowzero)");
  add("Flatten", importFlatten, "bism.reshape to 2-D");
  add("Squeeze", importSqueeze, "bism.reshape; axes input (known) or all size-1 axes");
  add("Unsqueeze", importUnsqueeze, "bism.reshape; axes input (known)");
  add("Transpose", importTranspose, "bism.transpose; perm (default: reversed)");
  add("Expand", importExpand, "bism.broadcast to a known shape (bidirectional)");
  add("Concat", importConcat, "bism.concat; folds on known tensors");
  add("Split", importSplit,
      "bism.slice per output; split input, num_outputs (18+) or equal parts");
  add("Slice", importSlice,
      "bism.slice with known starts/ends/axes/steps; negative steps via bism.reverse");
  add("Gather", importGather,
      "known indices: folds on known data, else bism.slice (+ bism.concat) and reshape");
  add("Pad", importPad, "constant mode, zero value: bism.pad (negative pads slice)");
  add("Constant", importConstant, "value, value_float(s), value_int(s); float "
                                  "constants become bism.constant where used");
  add("ConstantOfShape", importConstantOfShape, "folds");
  add("Cast", importCast,
      "FLOAT <-> DOUBLE as bism.convert; any numeric cast of known tensors folds");
  add("Shape", importShape, "folds to the static shape (start, end)");
  add("Size", importSize, "folds");
  add("Range", importRange, "known scalars only (folds)");
}

} // namespace bism::onnx_import
