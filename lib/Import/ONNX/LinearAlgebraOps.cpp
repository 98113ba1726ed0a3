//===- LinearAlgebraOps.cpp - Gemm and MatMul -----------------------------===//
#include "GraphImporter.h"

using namespace mlir;

namespace bism::onnx_import {
namespace {

/// Gemm: alpha * A' B' + beta * C with the transposes as bism.matmul flags
/// and C broadcast (unidirectionally) to [M, N].
LogicalResult importGemm(NodeImporter &node) {
  if (failed(node.expectInputs(2, 3)))
    return failure();
  double alpha = node.floatAttr("alpha", 1.0);
  double beta = node.floatAttr("beta", 1.0);
  bool transA = node.intAttr("transA", 0) != 0;
  bool transB = node.intAttr("transB", 0) != 0;
  Value a = node.input(0), b = node.input(1);
  if (!a || !b || node.failed())
    return failure();
  Shape sa = NodeImporter::shapeOf(a), sb = NodeImporter::shapeOf(b);
  if (sa.size() != 2 || sb.size() != 2)
    return node.emitError() << "A and B must be matrices, got "
                            << formatShape(sa) << " and " << formatShape(sb);
  Type element = NodeImporter::typeOf(a).getElementType();
  if (NodeImporter::typeOf(b).getElementType() != element)
    return node.emitError() << "A and B have different element types";
  int64_t m = transA ? sa[1] : sa[0], k = transA ? sa[0] : sa[1];
  int64_t kb = transB ? sb[1] : sb[0], n = transB ? sb[0] : sb[1];
  if (k != kb)
    return node.emitError() << "inner dimensions differ: A' is [" << m << ", "
                            << k << "], B' is [" << kb << ", " << n << "]";
  auto type = node.tensorType({m, n}, element);
  Value y = bism::MatmulOp::create(node.builder(), node.loc(), type, a, b,
                                   transA, transB)
                .getResult();
  if (alpha != 1.0)
    y = node.create<bism::MulOp>(type, node.splat(alpha, type), y);
  if (node.hasInput(2) && beta != 0.0) {
    Value c = node.input(2);
    if (!c)
      return failure();
    if (NodeImporter::typeOf(c).getElementType() != element)
      return node.emitError() << "C has a different element type";
    c = node.broadcastTo(c, {m, n});
    if (!c)
      return failure();
    if (beta != 1.0)
      c = node.create<bism::MulOp>(type, node.splat(beta, type), c);
    y = node.create<bism::AddOp>(type, y, c);
  }
  node.setOutput(0, y);
  return success();
}

/// MatMul with numpy semantics: 1-D operands gain (and then lose) a unit
/// dimension; a stack times a matrix is one reshaped 2-D product; stacks
/// broadcast their batch dimensions to a batched bism.matmul.
LogicalResult importMatMul(NodeImporter &node) {
  if (failed(node.expectInputs(2, 2)))
    return failure();
  Value a = node.input(0), b = node.input(1);
  if (!a || !b)
    return failure();
  Type element = NodeImporter::typeOf(a).getElementType();
  if (NodeImporter::typeOf(b).getElementType() != element)
    return node.emitError() << "operands have different element types";
  Shape sa = NodeImporter::shapeOf(a), sb = NodeImporter::shapeOf(b);
  if (sa.empty() || sb.empty())
    return node.emitError() << "operands must have rank >= 1";
  bool vectorA = sa.size() == 1, vectorB = sb.size() == 1;
  if (vectorA)
    sa.insert(sa.begin(), 1);
  if (vectorB)
    sb.push_back(1);
  int64_t m = sa[sa.size() - 2], k = sa.back(), n = sb.back();
  if (sb[sb.size() - 2] != k)
    return node.emitError() << "inner dimensions differ: " << formatShape(sa)
                            << " x " << formatShape(sb);
  Shape batchA(sa.begin(), sa.end() - 2), batchB(sb.begin(), sb.end() - 2);
  Shape resultShape;
  Value product;
  if (batchB.empty()) {
    // [..., M, K] x [K, N]: one 2-D product over all rows.
    int64_t rows = m;
    for (int64_t d : batchA)
      rows *= d;
    Value lhs = node.reshape(a, {rows, k});
    Value rhs = node.reshape(b, {k, n});
    product = node.create<bism::MatmulOp>(
        node.tensorType({rows, n}, element), lhs, rhs);
    resultShape = batchA;
  } else {
    std::optional<Shape> batch = broadcastShapes(batchA, batchB);
    if (!batch)
      return node.emitError() << "batch dimensions " << formatShape(batchA)
                              << " and " << formatShape(batchB)
                              << " do not broadcast";
    Shape fullA = *batch, fullB = *batch;
    fullA.insert(fullA.end(), {m, k});
    fullB.insert(fullB.end(), {k, n});
    Value lhs = node.broadcastTo(node.reshape(a, sa), fullA);
    Value rhs = node.broadcastTo(node.reshape(b, sb), fullB);
    if (!lhs || !rhs)
      return failure();
    Shape productShape = *batch;
    productShape.insert(productShape.end(), {m, n});
    product = node.create<bism::MatmulOp>(
        node.tensorType(productShape, element), lhs, rhs);
    resultShape = *batch;
  }
  if (!vectorA)
    resultShape.push_back(m);
  if (!vectorB)
    resultShape.push_back(n);
  node.setOutput(0, node.reshape(product, resultShape));
  return success();
}

} // namespace

void appendLinearAlgebraOperators(std::vector<OperatorEntry> &table) {
  table.push_back({"Gemm", 13, 21, importGemm,
                   "bism.matmul {transpose_lhs, transpose_rhs}, alpha/beta as "
                   "bism.mul, C broadcast"});
  table.push_back({"MatMul", 13, 21, importMatMul,
                   "numpy semantics: rank-1 operands, stacks x matrix as one "
                   "2-D bism.matmul, broadcast batch dims"});
}

} // namespace bism::onnx_import
