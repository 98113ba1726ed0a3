//===- GraphImporter.h - state shared by the ONNX operator handlers -*- C++ -*-===//
//
// Internal to lib/Import/ONNX. The GraphImporter walks one ONNX graph and
// keeps what each ONNX value name stands for; a NodeImporter is the view of
// one node that an operator handler (one function per op, grouped by family
// in *Ops.cpp) gets: typed access to inputs and attributes, the builder, and
// errors that name the node.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_LIB_IMPORT_ONNX_GRAPHIMPORTER_H
#define BISM_LIB_IMPORT_ONNX_GRAPHIMPORTER_H

#include "bism/Dialect/Bism.h"
#include "bism/Import/ONNX/ImportONNX.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringMap.h"

#include <onnx/onnx_pb.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bism::onnx_import {

using Shape = std::vector<int64_t>;

/// Largest element count of any tensor the importer creates or decodes; a
/// guard against corrupt shapes (2^31 elements, 8 GiB of f32).
constexpr int64_t kMaxElements = int64_t(1) << 31;

/// Element count of `shape`, or -1 if a dimension is negative or the count
/// exceeds kMaxElements.
int64_t checkedNumElements(llvm::ArrayRef<int64_t> shape);

/// `value` rounded to float (out-of-range values become infinities rather
/// than undefined behaviour).
float narrowToFloat(double value);

/// "[2, 3]".
std::string formatShape(llvm::ArrayRef<int64_t> shape);
/// "FLOAT", "INT64", ... for an onnx::TensorProto::DataType value.
std::string dataTypeName(int32_t dataType);
bool isFloatDataType(int32_t dataType);  // FLOAT, DOUBLE
bool isIntegerDataType(int32_t dataType); // INT64, INT32, INT16, INT8, UINT8, BOOL

/// A tensor whose contents are known at import time: Constant nodes, int64
/// initializers, frozen initializers, and everything folded from them
/// (shape arithmetic). Float data is held as double, integers as int64.
struct KnownTensor {
  int32_t dataType = 0; ///< onnx::TensorProto::DataType
  Shape shape;
  std::vector<double> floats; ///< when isFloatDataType(dataType)
  std::vector<int64_t> ints;  ///< otherwise

  bool isFloat() const { return isFloatDataType(dataType); }
  int64_t numElements() const;
  /// Element i as double / as int64 regardless of storage.
  double floatAt(int64_t i) const;
  int64_t intAt(int64_t i) const;

  static KnownTensor fromInts(Shape shape, std::vector<int64_t> values,
                              int32_t dataType = onnx::TensorProto::INT64);
  static KnownTensor fromFloats(Shape shape, std::vector<double> values,
                                int32_t dataType);
};

/// Decodes a TensorProto (inline or external data). Returns an error
/// message (empty on success).
std::string decodeTensor(const onnx::TensorProto &tensor,
                         llvm::StringRef externalDataDirectory,
                         KnownTensor &result);

/// Parses the ONNX text format (onnx::OnnxParser); returns an error message,
/// empty on success. Built with exceptions: the parser throws on some inputs.
std::string parseONNXText(llvm::StringRef text, onnx::ModelProto &model);

/// MLIR element type of an ONNX float data type (f32, f64), else null.
mlir::Type floatElementType(mlir::MLIRContext *context, int32_t dataType);

/// The elements attribute of a float KnownTensor with the given type.
mlir::DenseElementsAttr toElementsAttr(const KnownTensor &tensor,
                                       mlir::RankedTensorType type);

/// numpy-style broadcast of two shapes; nullopt if incompatible.
std::optional<Shape> broadcastShapes(llvm::ArrayRef<int64_t> a,
                                     llvm::ArrayRef<int64_t> b);

/// The element of a tensor of shape `from` that element `index` (row-major)
/// of the numpy-broadcast shape `to` reads.
int64_t broadcastSourceIndex(int64_t index, llvm::ArrayRef<int64_t> to,
                             llvm::ArrayRef<int64_t> from);

/// Known tensors at most this large fold at import (shape arithmetic);
/// larger ones (frozen weights) are computed in the IR.
constexpr int64_t kMaxFoldedElements = 4096;

/// What an ONNX value name stands for: an IR value (float tensor), a tensor
/// known at import time, or both (a known float tensor once materialised).
struct ImportedValue {
  mlir::Value value;
  std::shared_ptr<const KnownTensor> known;
};

class GraphImporter;

/// One node under import. Getters that fail emit an error naming the node
/// and mark the node failed (`failed()`); they return a harmless default so
/// that a handler can check once before building.
class NodeImporter {
public:
  NodeImporter(GraphImporter &graph, const onnx::NodeProto &node,
               int64_t opset, mlir::Location loc);

  const onnx::NodeProto &proto() const { return node_; }
  llvm::StringRef opType() const { return node_.op_type(); }
  int64_t opset() const { return opset_; }
  mlir::OpBuilder &builder();
  mlir::Location loc() const { return loc_; }
  mlir::MLIRContext *context() const { return loc_.getContext(); }
  bool failed() const { return failed_; }
  /// Where external data of tensor attributes is looked up.
  llvm::StringRef externalDataDirectory() const;

  //===--- errors ---===//
  /// An error prefixed with "node 'NAME' (OP, opset N): "; marks the node failed.
  mlir::InFlightDiagnostic emitError();
  /// Checks the number of inputs (counting empty optional slots).
  mlir::LogicalResult expectInputs(size_t minimum, size_t maximum);
  /// Fails if output `i` (i >= 1) is used; for outputs the import does not
  /// produce (MaxPool indices, BatchNormalization statistics, ...).
  mlir::LogicalResult expectUnusedOutputsFrom(size_t first);

  //===--- inputs ---===//
  size_t numInputs() const { return size_t(node_.input_size()); }
  /// Present and non-empty (optional inputs may be given as "").
  bool hasInput(size_t i) const;
  /// Input i as a float tensor in the IR (known float tensors are
  /// materialised as bism.constant); null (and an error) otherwise.
  mlir::Value input(size_t i);
  /// Input i's contents if known at import time, else null.
  const KnownTensor *known(size_t i);
  /// True if input i is an integer/bool tensor known at import time.
  bool isKnownInteger(size_t i);
  /// True if every present input is known at import time, at most
  /// kMaxFoldedElements large, and at least one of them holds integers
  /// (or all are known and `allowFloat`): the node folds.
  bool foldable(bool allowFloat = true);
  /// Input i's static shape; empty (and an error) if undefined.
  Shape inputShape(size_t i);
  /// Input i as a list of integers known at import time (rank 0 or 1), for
  /// axes, shapes, pads, ...; `what` names it in the error.
  std::optional<std::vector<int64_t>> knownInts(size_t i, llvm::StringRef what);

  //===--- attributes ---===//
  const onnx::AttributeProto *attribute(llvm::StringRef name) const;
  bool hasAttribute(llvm::StringRef name) const { return attribute(name); }
  int64_t intAttr(llvm::StringRef name, int64_t defaultValue);
  /// A FLOAT attribute widened to the double of its shortest decimal form
  /// (0.2f gives 0.2, not 0.20000000298), so f64 graphs get the intended value.
  double floatAttr(llvm::StringRef name, double defaultValue);
  std::string stringAttr(llvm::StringRef name, llvm::StringRef defaultValue);
  std::vector<int64_t> intsAttr(llvm::StringRef name,
                                std::vector<int64_t> defaultValue = {});
  std::vector<float> floatsAttr(llvm::StringRef name);
  /// The tensor of a TENSOR attribute, or null.
  const onnx::TensorProto *tensorAttr(llvm::StringRef name);

  //===--- outputs ---===//
  size_t numOutputs() const { return size_t(node_.output_size()); }
  bool hasOutput(size_t i) const;
  void setOutput(size_t i, mlir::Value value);
  void setKnownOutput(size_t i, KnownTensor tensor);

  //===--- building (at loc()) ---===//
  template <typename OpTy, typename... Args> mlir::Value create(Args &&...args) {
    return OpTy::create(builder(), loc_, std::forward<Args>(args)...)
        .getResult();
  }
  /// Normalises an axis in [-rank, rank) to [0, rank); -1 and an error if
  /// out of range.
  int64_t normalizeAxis(int64_t axis, int64_t rank, llvm::StringRef what = "axis");
  /// bism.broadcast to `shape` (numpy rules), nothing if already that shape.
  mlir::Value broadcastTo(mlir::Value value, llvm::ArrayRef<int64_t> shape);
  /// bism.reshape, nothing if already that shape.
  mlir::Value reshape(mlir::Value value, llvm::ArrayRef<int64_t> shape);
  /// A bism.constant splat of `value` with the given type.
  mlir::Value splat(double value, mlir::RankedTensorType type);
  /// Broadcasts both operands to their common shape; false (and an error)
  /// if the shapes or element types disagree.
  bool broadcastPair(mlir::Value &lhs, mlir::Value &rhs);

  static Shape shapeOf(mlir::Value value);
  static mlir::RankedTensorType typeOf(mlir::Value value);
  /// The tensor type of a result. An invalid shape (negative or huge sizes
  /// from a corrupt model) is an error; a 1-element type stands in for it so
  /// that building can go on until the handler checks failed().
  mlir::RankedTensorType tensorType(llvm::ArrayRef<int64_t> shape,
                                    mlir::Type element);

private:
  ImportedValue *lookupInput(size_t i);

  GraphImporter &graph_;
  const onnx::NodeProto &node_;
  int64_t opset_;
  mlir::Location loc_;
  bool failed_ = false;
};

/// An operator handler imports one node; it reports errors through the
/// NodeImporter and returns failure() after any.
using NodeHandler = mlir::LogicalResult (*)(NodeImporter &node);

struct OperatorEntry {
  const char *opType;
  int64_t minOpset; ///< first opset of the default domain handled
  int64_t maxOpset; ///< last
  NodeHandler handler;
  const char *notes; ///< for docs/onnx.md and --help-like listings
};

/// Each operator family appends its entries (one file per family).
void appendElementwiseOperators(std::vector<OperatorEntry> &table);
void appendLinearAlgebraOperators(std::vector<OperatorEntry> &table);
void appendConvolutionOperators(std::vector<OperatorEntry> &table);
void appendReductionOperators(std::vector<OperatorEntry> &table);
void appendShapeOperators(std::vector<OperatorEntry> &table);

/// All entries, sorted by op type then opset.
const std::vector<OperatorEntry> &operatorTable();
/// The entry for `opType` at `opset` of the default domain, or null.
const OperatorEntry *lookupOperator(llvm::StringRef opType, int64_t opset);

/// Imports one graph into one func.func.
class GraphImporter {
public:
  GraphImporter(mlir::ModuleOp module, const onnx::ModelProto &model,
                const ONNXImportOptions &options, llvm::StringRef bufferName,
                std::string externalDataDirectory);

  /// Builds the function at the end of the module; null on failure (the
  /// partial function is erased).
  mlir::func::FuncOp run();

  // Used by NodeImporter.
  mlir::OpBuilder &builder() { return builder_; }
  ImportedValue *lookup(llvm::StringRef name);
  void define(llvm::StringRef name, ImportedValue value);
  /// The IR value of a known float tensor (created once, at the function's
  /// entry so that it dominates every use).
  mlir::Value materialize(ImportedValue &value);
  /// An error at the model file's location.
  mlir::InFlightDiagnostic emitError();
  bool isUsed(llvm::StringRef valueName) const;
  llvm::StringRef externalDataDirectory() const { return externalDataDirectory_; }

private:
  mlir::LogicalResult readOpsets();
  mlir::LogicalResult importInputType(const onnx::ValueInfoProto &info,
                                      mlir::RankedTensorType &type);
  mlir::LogicalResult importNode(const onnx::NodeProto &node, size_t index);
  mlir::LogicalResult checkOutput(const onnx::ValueInfoProto &info,
                                  mlir::Value value);
  std::string functionName() const;

  mlir::ModuleOp module_;
  const onnx::ModelProto &model_;
  const ONNXImportOptions &options_;
  std::string bufferName_;
  std::string externalDataDirectory_;
  mlir::OpBuilder builder_;
  mlir::Location fileLoc_;
  mlir::Block *entry_ = nullptr;
  int64_t defaultOpset_ = 0;
  llvm::StringMap<int64_t> otherOpsets_;
  llvm::StringMap<ImportedValue> values_;
  /// Number of node inputs and graph outputs that read each value name.
  llvm::StringMap<int64_t> useCounts_;
};

} // namespace bism::onnx_import

#endif // BISM_LIB_IMPORT_ONNX_GRAPHIMPORTER_H
