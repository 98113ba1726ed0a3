//===- ConvolutionOps.cpp - Conv, ConvTranspose, pooling, BatchNorm -------===//
//
// 2-D only (NCHW inputs, OIHW filters), as bism.conv2d and the pool ops
// take them. ONNX pads are [x1_begin, x2_begin, x1_end, x2_end], which is
// bism's [top, left, bottom, right].
//
//===----------------------------------------------------------------------===//
#include "GraphImporter.h"

using namespace mlir;

namespace bism::onnx_import {
namespace {

/// Window geometry of a 2-D conv or pool, after auto_pad and ceil_mode.
struct Window {
  int64_t kernel[2];
  int64_t strides[2] = {1, 1};
  int64_t dilations[2] = {1, 1};
  int64_t pads[4] = {0, 0, 0, 0}; // top, left, bottom, right
  int64_t output[2];
};

/// Reads strides, dilations, pads and auto_pad for an input of spatial size
/// `input` and a `kernel`; computes the output size. With `ceilMode` the
/// bottom/right padding grows so that the floor formula gives ONNX's ceil
/// output size.
LogicalResult readWindow(NodeImporter &node, const int64_t input[2],
                         const int64_t kernel[2], bool ceilMode, Window &w) {
  for (int i = 0; i < 2; ++i)
    w.kernel[i] = kernel[i];
  auto readPair = [&](StringRef name, int64_t *out) -> LogicalResult {
    std::vector<int64_t> values = node.intsAttr(name, {out[0], out[1]});
    if (values.size() != 2 || values[0] < 1 || values[1] < 1 ||
        values[0] > kMaxElements || values[1] > kMaxElements)
      return node.emitError() << "'" << name << "' must be two positive values, got "
                              << formatShape(values);
    out[0] = values[0];
    out[1] = values[1];
    return success();
  };
  if (failed(readPair("strides", w.strides)) ||
      failed(readPair("dilations", w.dilations)))
    return failure();
  std::string autoPad = node.stringAttr("auto_pad", "NOTSET");
  if (autoPad == "NOTSET") {
    std::vector<int64_t> pads = node.intsAttr("pads", {0, 0, 0, 0});
    if (pads.size() != 4 ||
        llvm::any_of(pads, [](int64_t p) { return p < 0 || p > kMaxElements; }))
      return node.emitError() << "'pads' must be four non-negative values, got "
                              << formatShape(pads);
    std::copy(pads.begin(), pads.end(), w.pads);
  } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    for (int i = 0; i < 2; ++i) {
      int64_t out = (input[i] + w.strides[i] - 1) / w.strides[i];
      int64_t extent = (kernel[i] - 1) * w.dilations[i] + 1;
      int64_t total = std::max<int64_t>(0, (out - 1) * w.strides[i] + extent - input[i]);
      int64_t small = total / 2, large = total - total / 2;
      w.pads[i] = autoPad == "SAME_UPPER" ? small : large;
      w.pads[i + 2] = autoPad == "SAME_UPPER" ? large : small;
    }
  } else if (autoPad != "VALID") {
    return node.emitError() << "unknown auto_pad '" << autoPad << "'";
  }
  if (node.failed())
    return failure();
  for (int i = 0; i < 2; ++i) {
    int64_t extent = (kernel[i] - 1) * w.dilations[i] + 1;
    int64_t span = input[i] + w.pads[i] + w.pads[i + 2] - extent;
    if (span < 0)
      return node.emitError() << "the window (extent " << extent
                              << ") is larger than the padded input ("
                              << input[i] + w.pads[i] + w.pads[i + 2] << ")";
    w.output[i] = span / w.strides[i] + 1;
    if (ceilMode && span % w.strides[i] != 0) {
      int64_t out = span / w.strides[i] + 2;
      // The last window must start inside the input or the begin padding.
      if ((out - 1) * w.strides[i] >= input[i] + w.pads[i])
        --out;
      int64_t extra = (out - 1) * w.strides[i] + extent - (input[i] + w.pads[i] + w.pads[i + 2]);
      if (extra > 0)
        w.pads[i + 2] += extra;
      w.output[i] = out;
    }
  }
  return success();
}

/// Adds a per-channel bias [C] to a [N, C, ...] tensor.
Value addChannelBias(NodeImporter &node, Value y, size_t biasInput) {
  Value bias = node.input(biasInput);
  if (!bias)
    return nullptr;
  auto type = NodeImporter::typeOf(y);
  Shape biasShape = NodeImporter::shapeOf(bias);
  if (biasShape.size() != 1 || biasShape[0] != type.getDimSize(1) ||
      NodeImporter::typeOf(bias).getElementType() != type.getElementType()) {
    node.emitError() << "bias must be a vector of " << type.getDimSize(1)
                     << " values of the input's element type, got "
                     << bias.getType();
    return nullptr;
  }
  Shape column(size_t(type.getRank() - 1), 1);
  column[0] = biasShape[0];
  Value b = node.broadcastTo(node.reshape(bias, column), type.getShape());
  return b ? node.create<bism::AddOp>(type, y, b) : nullptr;
}

/// Checks that X is [N, C, H, W] and returns it.
Value spatialInput(NodeImporter &node) {
  Value x = node.input(0);
  if (!x)
    return nullptr;
  if (NodeImporter::typeOf(x).getRank() != 4) {
    node.emitError() << "only 2-D inputs [N, C, H, W] are supported, got "
                     << x.getType();
    return nullptr;
  }
  return x;
}

LogicalResult importConv(NodeImporter &node) {
  if (failed(node.expectInputs(2, 3)))
    return failure();
  Value x = spatialInput(node), w = node.input(1);
  if (!x || !w)
    return failure();
  auto xType = NodeImporter::typeOf(x), wType = NodeImporter::typeOf(w);
  if (wType.getRank() != 4 || wType.getElementType() != xType.getElementType())
    return node.emitError() << "the filter must be [O, C/group, KH, KW] of the "
                               "input's element type, got "
                            << w.getType();
  int64_t groups = node.intAttr("group", 1);
  if (groups < 1 || xType.getDimSize(1) != wType.getDimSize(1) * groups ||
      wType.getDimSize(0) % groups != 0)
    return node.emitError() << "channels do not match: input " << x.getType()
                            << ", filter " << w.getType() << ", group " << groups;
  int64_t kernel[2] = {wType.getDimSize(2), wType.getDimSize(3)};
  std::vector<int64_t> kernelShape = node.intsAttr("kernel_shape", {kernel[0], kernel[1]});
  if (kernelShape != std::vector<int64_t>{kernel[0], kernel[1]})
    return node.emitError() << "kernel_shape " << formatShape(kernelShape)
                            << " disagrees with the filter " << w.getType();
  int64_t input[2] = {xType.getDimSize(2), xType.getDimSize(3)};
  Window win;
  if (failed(readWindow(node, input, kernel, false, win)))
    return failure();
  auto type = node.tensorType(
      {xType.getDimSize(0), wType.getDimSize(0), win.output[0], win.output[1]},
      xType.getElementType());
  Value y = node.create<bism::Conv2DOp>(
      type, x, w, llvm::ArrayRef<int64_t>(win.strides, 2),
      llvm::ArrayRef<int64_t>(win.pads, 4),
      llvm::ArrayRef<int64_t>(win.dilations, 2), uint64_t(groups));
  if (node.hasInput(2))
    y = addChannelBias(node, y, 2);
  if (!y)
    return failure();
  node.setOutput(0, y);
  return success();
}

/// ConvTranspose as a convolution: the input is dilated by the stride
/// (bism.pad interior = stride - 1) and padded by dilation*(k-1) - pad, the
/// filter is flipped (bism.reverse) with its in/out channels swapped per
/// group, then a stride-1 bism.conv2d.
LogicalResult importConvTranspose(NodeImporter &node) {
  if (failed(node.expectInputs(2, 3)))
    return failure();
  Value x = spatialInput(node), w = node.input(1);
  if (!x || !w)
    return failure();
  auto xType = NodeImporter::typeOf(x), wType = NodeImporter::typeOf(w);
  Type element = xType.getElementType();
  if (wType.getRank() != 4 || wType.getElementType() != element)
    return node.emitError() << "the filter must be [C, O/group, KH, KW] of the "
                               "input's element type, got "
                            << w.getType();
  int64_t groups = node.intAttr("group", 1);
  int64_t c = xType.getDimSize(1);
  if (groups < 1 || wType.getDimSize(0) != c || c % groups != 0)
    return node.emitError() << "channels do not match: input " << x.getType()
                            << ", filter " << w.getType() << ", group " << groups;
  int64_t outPerGroup = wType.getDimSize(1), o = outPerGroup * groups;
  int64_t kernel[2] = {wType.getDimSize(2), wType.getDimSize(3)};
  int64_t input[2] = {xType.getDimSize(2), xType.getDimSize(3)};
  std::vector<int64_t> kernelShape = node.intsAttr("kernel_shape", {kernel[0], kernel[1]});
  std::vector<int64_t> strides = node.intsAttr("strides", {1, 1});
  std::vector<int64_t> dilations = node.intsAttr("dilations", {1, 1});
  std::vector<int64_t> outputPadding = node.intsAttr("output_padding", {0, 0});
  std::vector<int64_t> pads = node.intsAttr("pads", {0, 0, 0, 0});
  std::vector<int64_t> outputShape = node.intsAttr("output_shape", {});
  std::string autoPad = node.stringAttr("auto_pad", "NOTSET");
  if (node.failed())
    return failure();
  if (kernelShape != std::vector<int64_t>{kernel[0], kernel[1]})
    return node.emitError() << "kernel_shape " << formatShape(kernelShape)
                            << " disagrees with the filter " << w.getType();
  auto within = [](const std::vector<int64_t> &values, int64_t low) {
    return llvm::all_of(values, [&](int64_t v) { return v >= low && v <= kMaxElements; });
  };
  if (strides.size() != 2 || dilations.size() != 2 || outputPadding.size() != 2 ||
      pads.size() != 4 || !within(strides, 1) || !within(dilations, 1) ||
      !within(outputPadding, 0) || !within(pads, 0) ||
      !within(outputShape, 1))
    return node.emitError() << "invalid strides, dilations, output_padding or pads";
  if (autoPad != "NOTSET" && autoPad != "VALID" && autoPad != "SAME_UPPER" &&
      autoPad != "SAME_LOWER")
    return node.emitError() << "unknown auto_pad '" << autoPad << "'";
  if (autoPad == "VALID")
    pads = {0, 0, 0, 0};
  if (autoPad.substr(0, 4) == "SAME" && outputShape.empty())
    outputShape = {input[0] * strides[0], input[1] * strides[1]};
  if (!outputShape.empty()) {
    if (outputShape.size() == 4)
      outputShape.erase(outputShape.begin(), outputShape.begin() + 2);
    if (outputShape.size() != 2)
      return node.emitError() << "output_shape must have two spatial values";
    for (int i = 0; i < 2; ++i) {
      int64_t total = strides[i] * (input[i] - 1) + outputPadding[i] +
                      (kernel[i] - 1) * dilations[i] + 1 - outputShape[i];
      int64_t half = total / 2, rest = total - total / 2;
      pads[i] = autoPad == "SAME_UPPER" ? half : rest;
      pads[i + 2] = autoPad == "SAME_UPPER" ? rest : half;
    }
  }

  // The dilated, padded input.
  Shape low(4, 0), high(4, 0), interior(4, 0), clipLow(4, 0), clipHigh(4, 0);
  Shape padded = NodeImporter::shapeOf(x);
  for (int i = 0; i < 2; ++i) {
    int64_t before = dilations[i] * (kernel[i] - 1) - pads[i];
    int64_t after = dilations[i] * (kernel[i] - 1) - pads[i + 2] + outputPadding[i];
    interior[i + 2] = strides[i] - 1;
    low[i + 2] = std::max<int64_t>(before, 0);
    high[i + 2] = std::max<int64_t>(after, 0);
    clipLow[i + 2] = std::max<int64_t>(-before, 0);
    clipHigh[i + 2] = std::max<int64_t>(-after, 0);
    padded[i + 2] = low[i + 2] + input[i] + (input[i] - 1) * interior[i + 2] + high[i + 2];
    int64_t remaining = padded[i + 2] - clipLow[i + 2] - clipHigh[i + 2];
    if (remaining < (kernel[i] - 1) * dilations[i] + 1)
      return node.emitError() << "the padding leaves no output";
  }
  Value xp = x;
  if (padded != NodeImporter::shapeOf(x))
    xp = node.create<bism::PadOp>(node.tensorType(padded, element), x,
                                  llvm::ArrayRef<int64_t>(low),
                                  llvm::ArrayRef<int64_t>(high),
                                  llvm::ArrayRef<int64_t>(interior));
  if (llvm::any_of(clipLow, [](int64_t v) { return v > 0; }) ||
      llvm::any_of(clipHigh, [](int64_t v) { return v > 0; })) {
    Shape limits(4), clipped(4);
    for (int d = 0; d < 4; ++d) {
      limits[d] = padded[d] - clipHigh[d];
      clipped[d] = limits[d] - clipLow[d];
    }
    xp = node.create<bism::SliceOp>(node.tensorType(clipped, element), xp,
                                    llvm::ArrayRef<int64_t>(clipLow),
                                    llvm::ArrayRef<int64_t>(limits),
                                    llvm::ArrayRef<int64_t>{1, 1, 1, 1});
    padded = clipped;
  }

  // The filter [C, O/g, KH, KW] -> [O, C/g, KH, KW], flipped.
  int64_t inPerGroup = c / groups;
  Value filter = w;
  if (groups == 1) {
    filter = node.create<bism::TransposeOp>(
        node.tensorType({o, c, kernel[0], kernel[1]}, element), w,
        llvm::ArrayRef<int64_t>{1, 0, 2, 3});
  } else {
    Value grouped = node.reshape(w, {groups, inPerGroup, outPerGroup, kernel[0], kernel[1]});
    Value swapped = node.create<bism::TransposeOp>(
        node.tensorType({groups, outPerGroup, inPerGroup, kernel[0], kernel[1]},
                                 element),
        grouped, llvm::ArrayRef<int64_t>{0, 2, 1, 3, 4});
    filter = node.reshape(swapped, {o, inPerGroup, kernel[0], kernel[1]});
  }
  filter = node.create<bism::ReverseOp>(filter.getType(), filter,
                                        llvm::ArrayRef<int64_t>{2, 3});

  int64_t outputH = padded[2] - dilations[0] * (kernel[0] - 1);
  int64_t outputW = padded[3] - dilations[1] * (kernel[1] - 1);
  auto type = node.tensorType({xType.getDimSize(0), o, outputH, outputW}, element);
  Value y = node.create<bism::Conv2DOp>(
      type, xp, filter, llvm::ArrayRef<int64_t>{1, 1},
      llvm::ArrayRef<int64_t>{0, 0, 0, 0}, llvm::ArrayRef<int64_t>(dilations),
      uint64_t(groups));
  if (node.hasInput(2))
    y = addChannelBias(node, y, 2);
  if (!y)
    return failure();
  node.setOutput(0, y);
  return success();
}

template <bool isMax> LogicalResult importPool(NodeImporter &node) {
  if (failed(node.expectInputs(1, 1)) ||
      failed(node.expectUnusedOutputsFrom(1)))
    return failure();
  Value x = spatialInput(node);
  if (!x)
    return failure();
  auto xType = NodeImporter::typeOf(x);
  std::vector<int64_t> kernelShape = node.intsAttr("kernel_shape");
  bool ceilMode = node.intAttr("ceil_mode", 0) != 0;
  bool countIncludePad = !isMax && node.intAttr("count_include_pad", 0) != 0;
  if (node.failed())
    return failure();
  if (kernelShape.size() != 2 || kernelShape[0] < 1 || kernelShape[1] < 1)
    return node.emitError() << "kernel_shape must be two positive values, got "
                            << formatShape(kernelShape);
  int64_t input[2] = {xType.getDimSize(2), xType.getDimSize(3)};
  int64_t kernel[2] = {kernelShape[0], kernelShape[1]};
  Window win;
  int64_t padsBefore[4];
  if (failed(readWindow(node, input, kernel, false, win)))
    return failure();
  std::copy(win.pads, win.pads + 4, padsBefore);
  if (ceilMode && failed(readWindow(node, input, kernel, true, win)))
    return failure();
  if (win.dilations[0] != 1 || win.dilations[1] != 1)
    return node.emitError() << "dilated pooling is not supported";
  if (countIncludePad && !std::equal(win.pads, win.pads + 4, padsBefore))
    return node.emitError() << "ceil_mode with count_include_pad is not "
                               "supported when it adds a partial window";
  auto type = node.tensorType(
      {xType.getDimSize(0), xType.getDimSize(1), win.output[0], win.output[1]},
      xType.getElementType());
  Value y;
  if (isMax)
    y = node.create<bism::MaxPool2DOp>(type, x, llvm::ArrayRef<int64_t>(kernel, 2),
                                       llvm::ArrayRef<int64_t>(win.strides, 2),
                                       llvm::ArrayRef<int64_t>(win.pads, 4));
  else
    y = node.create<bism::AvgPool2DOp>(type, x, llvm::ArrayRef<int64_t>(kernel, 2),
                                       llvm::ArrayRef<int64_t>(win.strides, 2),
                                       llvm::ArrayRef<int64_t>(win.pads, 4),
                                       countIncludePad);
  node.setOutput(0, y);
  return success();
}

/// GlobalAveragePool / GlobalMaxPool: a keep-dims reduction over the
/// spatial axes (any number of them).
template <typename ReduceOp> LogicalResult importGlobalPool(NodeImporter &node) {
  if (failed(node.expectInputs(1, 1)))
    return failure();
  Value x = node.input(0);
  if (!x)
    return failure();
  auto type = NodeImporter::typeOf(x);
  if (type.getRank() < 3)
    return node.emitError() << "the input must be [N, C, spatial...], got " << x.getType();
  Shape axes;
  for (int64_t d = 2; d < type.getRank(); ++d)
    axes.push_back(d);
  node.setOutput(0, node.create<ReduceOp>(ReduceOp::inferResultType(type, axes, true),
                                          x, llvm::ArrayRef<int64_t>(axes), true));
  return success();
}

/// Inference-form BatchNormalization:
/// (x - mean) * (scale / sqrt(var + epsilon)) + bias, per channel (axis 1).
LogicalResult importBatchNormalization(NodeImporter &node) {
  if (failed(node.expectInputs(5, 5)) || failed(node.expectUnusedOutputsFrom(1)))
    return failure();
  double epsilon = node.floatAttr("epsilon", 1e-5);
  if (node.intAttr("training_mode", 0) != 0)
    return node.emitError() << "only the inference form (training_mode = 0) is supported";
  Value x = node.input(0);
  if (!x)
    return failure();
  auto type = NodeImporter::typeOf(x);
  if (type.getRank() < 2)
    return node.emitError() << "the input must be [N, C, ...], got " << x.getType();
  int64_t channels = type.getDimSize(1);
  auto vectorType = node.tensorType({channels}, type.getElementType());
  Value operands[4];
  for (int i = 0; i < 4; ++i) {
    operands[i] = node.input(size_t(i + 1));
    if (!operands[i])
      return failure();
    if (operands[i].getType() != vectorType)
      return node.emitError() << "input " << i + 1 << " must be " << vectorType
                              << ", got " << operands[i].getType();
  }
  auto [scale, bias, mean, variance] =
      std::tuple(operands[0], operands[1], operands[2], operands[3]);
  Value deviation = node.create<bism::SqrtOp>(
      vectorType, node.create<bism::AddOp>(vectorType, variance,
                                           node.splat(epsilon, vectorType)));
  Value factor = node.create<bism::DivOp>(vectorType, scale, deviation);
  Shape column(size_t(type.getRank() - 1), 1);
  column[0] = channels;
  auto perChannel = [&](Value v) {
    return node.broadcastTo(node.reshape(v, column), type.getShape());
  };
  Value centered = node.create<bism::SubOp>(type, x, perChannel(mean));
  Value scaled = node.create<bism::MulOp>(type, centered, perChannel(factor));
  node.setOutput(0, node.create<bism::AddOp>(type, scaled, perChannel(bias)));
  return success();
}

} // namespace

void appendConvolutionOperators(std::vector<OperatorEntry> &table) {
  table.push_back({"Conv", 13, 21, importConv,
                   "2-D: bism.conv2d (pads, strides, dilations, group, auto_pad); "
                   "bias broadcast and added"});
  table.push_back({"ConvTranspose", 13, 21, importConvTranspose,
                   "2-D: bism.pad (interior = stride - 1) + bism.reverse of the "
                   "filter + bism.conv2d; output_padding, output_shape, group"});
  table.push_back({"AveragePool", 13, 21, importPool<false>,
                   "2-D: bism.avg_pool2d (count_include_pad, ceil_mode, auto_pad); "
                   "no dilations"});
  table.push_back({"MaxPool", 13, 21, importPool<true>,
                   "2-D: bism.max_pool2d (ceil_mode, auto_pad); no dilations, "
                   "no Indices output"});
  table.push_back({"GlobalAveragePool", 13, 21,
                   importGlobalPool<bism::ReduceMeanOp>,
                   "bism.reduce_mean over the spatial axes, keep_dims"});
  table.push_back({"GlobalMaxPool", 13, 21, importGlobalPool<bism::ReduceMaxOp>,
                   "bism.reduce_max over the spatial axes, keep_dims"});
  table.push_back({"BatchNormalization", 13, 21, importBatchNormalization,
                   "inference form; running mean/var become parameters marked "
                   "bism.trainable = false"});
}

} // namespace bism::onnx_import
