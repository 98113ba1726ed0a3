//===- ImportONNX.cpp - ONNX models to bism functions ---------------------===//
//
// Reads the model (binary protobuf or text), then walks its graph once in
// node order: graph inputs and float initializers become function arguments,
// each node is imported by the handler the operator table names for its op
// type and opset, and the graph outputs are returned. Conventions are in
// ImportONNX.h and docs/onnx.md.
//
//===----------------------------------------------------------------------===//
#include "bism/Import/ONNX/ImportONNX.h"
#include "bism/Support/InputFiles.h"

#include "GraphImporter.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <climits>

using namespace mlir;

namespace bism {
namespace onnx_import {

GraphImporter::GraphImporter(ModuleOp module, const onnx::ModelProto &model,
                             const ONNXImportOptions &options,
                             StringRef bufferName,
                             std::string externalDataDirectory)
    : module_(module), model_(model), options_(options),
      bufferName_(bufferName.str()),
      externalDataDirectory_(std::move(externalDataDirectory)),
      builder_(module.getContext()),
      fileLoc_(FileLineColLoc::get(module.getContext(), bufferName, 0, 0)) {}

InFlightDiagnostic GraphImporter::emitError() { return mlir::emitError(fileLoc_); }

ImportedValue *GraphImporter::lookup(StringRef name) {
  auto it = values_.find(name);
  return it == values_.end() ? nullptr : &it->second;
}

void GraphImporter::define(StringRef name, ImportedValue value) {
  values_[name] = std::move(value);
}

bool GraphImporter::isUsed(StringRef valueName) const {
  return useCounts_.lookup(valueName) > 0;
}

Value GraphImporter::materialize(ImportedValue &value) {
  if (value.value)
    return value.value;
  // Inserted before the first use; later uses in the single-block function
  // come after it, so the cached value dominates them.
  const KnownTensor &tensor = *value.known;
  auto type = RankedTensorType::get(
      tensor.shape, floatElementType(module_.getContext(), tensor.dataType));
  value.value = bism::ConstantOp::create(builder_, fileLoc_, type,
                                         toElementsAttr(tensor, type))
                    .getResult();
  return value.value;
}

LogicalResult GraphImporter::readOpsets() {
  for (const onnx::OperatorSetIdProto &opset : model_.opset_import()) {
    if (opset.domain().empty() || opset.domain() == "ai.onnx")
      defaultOpset_ = opset.version();
    else
      otherOpsets_[opset.domain()] = opset.version();
  }
  if (defaultOpset_ <= 0)
    return emitError() << "the model imports no opset of the default ONNX "
                          "domain ('ai.onnx'); IR version "
                       << model_.ir_version();
  return success();
}

std::string GraphImporter::functionName() const {
  if (!options_.functionName.empty())
    return options_.functionName;
  std::string name = model_.graph().name();
  for (char &c : name)
    if (!llvm::isAlnum(c) && c != '_' && c != '.')
      c = '_';
  if (name.empty())
    return "main";
  if (llvm::isDigit(name[0]))
    name.insert(name.begin(), '_');
  return name;
}

LogicalResult GraphImporter::importInputType(const onnx::ValueInfoProto &info,
                                             RankedTensorType &type) {
  const std::string &name = info.name();
  if (!info.type().has_tensor_type())
    return emitError() << "graph input '" << name << "' is not a tensor";
  const onnx::TypeProto::Tensor &tensor = info.type().tensor_type();
  Type element = floatElementType(module_.getContext(), tensor.elem_type());
  if (!element)
    return emitError() << "graph input '" << name << "' has element type "
                       << dataTypeName(tensor.elem_type())
                       << "; only FLOAT and DOUBLE inputs are supported";
  if (!tensor.has_shape())
    return emitError() << "graph input '" << name
                       << "' has no shape (unknown rank), which cannot be fixed";
  Shape shape;
  for (int i = 0; i < tensor.shape().dim_size(); ++i) {
    const onnx::TensorShapeProto::Dimension &dim = tensor.shape().dim(i);
    if (dim.has_dim_value()) {
      if (dim.dim_value() <= 0)
        return emitError() << "graph input '" << name << "' dimension " << i
                           << " has size " << dim.dim_value()
                           << "; sizes must be positive";
      shape.push_back(dim.dim_value());
      continue;
    }
    std::optional<int64_t> size = options_.defaultDimSize;
    if (dim.has_dim_param()) {
      auto it = options_.dimSizes.find(dim.dim_param());
      if (it != options_.dimSizes.end())
        size = it->second;
    }
    if (!size) {
      auto diag = emitError() << "graph input '" << name << "' dimension " << i;
      if (dim.has_dim_param())
        diag << " is symbolic ('" << dim.dim_param()
             << "'): fix it with --onnx-dim " << dim.dim_param()
             << "=SIZE (or --onnx-dim SIZE for every unknown dimension)";
      else
        diag << " is unknown: fix it with --onnx-dim SIZE";
      return failure();
    }
    if (*size <= 0)
      return emitError() << "graph input '" << name << "' dimension " << i
                         << " would get size " << *size
                         << "; sizes must be positive";
    shape.push_back(*size);
  }
  if (checkedNumElements(shape) < 0)
    return emitError() << "graph input '" << name << "' shape "
                       << formatShape(shape) << " is too large";
  type = RankedTensorType::get(shape, element);
  return success();
}

LogicalResult GraphImporter::importNode(const onnx::NodeProto &node,
                                        size_t index) {
  std::string label = !node.name().empty() ? node.name()
                      : node.output_size() > 0 && !node.output(0).empty()
                          ? node.output(0)
                          : node.op_type() + "_" + std::to_string(index);
  Location loc = NameLoc::get(StringAttr::get(module_.getContext(), label), fileLoc_);
  bool defaultDomain = node.domain().empty() || node.domain() == "ai.onnx";
  int64_t opset = defaultDomain ? defaultOpset_ : otherOpsets_.lookup(node.domain());
  const OperatorEntry *entry =
      defaultDomain ? lookupOperator(node.op_type(), opset) : nullptr;
  if (!entry) {
    std::string which = !node.name().empty() ? "'" + node.name() + "'"
                        : node.output_size() > 0 ? "producing '" + node.output(0) + "'"
                                                 : "#" + std::to_string(index);
    auto diag = emitError() << "node " << which << " (op type '"
                            << node.op_type() << "', domain '"
                            << (defaultDomain ? "ai.onnx" : node.domain())
                            << "', opset " << opset << "): ";
    bool knownElsewhere = false;
    for (const OperatorEntry &other : operatorTable())
      knownElsewhere |= defaultDomain && node.op_type() == other.opType;
    if (knownElsewhere)
      diag << "this opset of " << node.op_type() << " is not supported";
    else
      diag << "unsupported operator";
    diag << "; supported operators of domain 'ai.onnx' (opsets): "
         << describeSupportedONNXOperators();
    return failure();
  }

  NodeImporter importer(*this, node, opset, loc);
  if (failed(entry->handler(importer)) || importer.failed()) {
    if (!importer.failed())
      importer.emitError() << "could not be imported";
    return failure();
  }
  for (int i = 0; i < node.output_size(); ++i) {
    const std::string &output = node.output(i);
    if (!output.empty() && isUsed(output) && !lookup(output))
      return importer.emitError() << "output " << i << " ('" << output
                                  << "') is used but was not produced";
  }
  return success();
}

LogicalResult GraphImporter::checkOutput(const onnx::ValueInfoProto &info,
                                         Value value) {
  if (!info.type().has_tensor_type())
    return success();
  const onnx::TypeProto::Tensor &declared = info.type().tensor_type();
  auto type = cast<RankedTensorType>(value.getType());
  Type element = floatElementType(module_.getContext(), declared.elem_type());
  if (declared.elem_type() != 0 && element != type.getElementType())
    return emitError() << "graph output '" << info.name() << "' is declared "
                       << dataTypeName(declared.elem_type())
                       << " but the graph computes " << type;
  if (!declared.has_shape())
    return success();
  const onnx::TensorShapeProto &shape = declared.shape();
  bool matches = shape.dim_size() == type.getRank();
  for (int i = 0; matches && i < shape.dim_size(); ++i) {
    const auto &dim = shape.dim(i);
    int64_t expected = -1;
    if (dim.has_dim_value())
      expected = dim.dim_value();
    else if (dim.has_dim_param() && options_.dimSizes.count(dim.dim_param()))
      expected = options_.dimSizes.at(dim.dim_param());
    matches = expected < 0 || expected == type.getDimSize(i);
  }
  if (!matches) {
    std::string text;
    llvm::raw_string_ostream os(text);
    os << "[";
    for (int i = 0; i < shape.dim_size(); ++i) {
      if (i)
        os << ", ";
      if (shape.dim(i).has_dim_value())
        os << shape.dim(i).dim_value();
      else
        os << (shape.dim(i).has_dim_param() ? shape.dim(i).dim_param() : "?");
    }
    os << "]";
    return emitError() << "graph output '" << info.name()
                       << "' is declared with shape " << text
                       << " but the graph computes " << type;
  }
  return success();
}

func::FuncOp GraphImporter::run() {
  MLIRContext *context = module_.getContext();
  if (!model_.has_graph()) {
    emitError() << "the model has no graph";
    return nullptr;
  }
  if (failed(readOpsets()))
    return nullptr;
  const onnx::GraphProto &graph = model_.graph();

  // Uses of each value, and which initializers only feed BatchNormalization
  // running statistics (imported as non-trainable parameters).
  llvm::StringMap<int64_t> statisticUses;
  for (const onnx::NodeProto &node : graph.node()) {
    for (int i = 0; i < node.input_size(); ++i) {
      ++useCounts_[node.input(i)];
      if (node.op_type() == "BatchNormalization" && (i == 3 || i == 4))
        ++statisticUses[node.input(i)];
    }
  }
  for (const onnx::ValueInfoProto &output : graph.output())
    ++useCounts_[output.name()];

  if (graph.sparse_initializer_size() > 0) {
    emitError() << "sparse initializers are not supported";
    return nullptr;
  }
  llvm::StringSet<> initializerNames, argumentNames;
  for (const onnx::TensorProto &tensor : graph.initializer()) {
    if (tensor.name().empty() || !initializerNames.insert(tensor.name()).second) {
      emitError() << "initializer names must be unique and non-empty, got '"
                  << tensor.name() << "' twice or empty";
      return nullptr;
    }
  }

  // Graph inputs (without the initializers that IR version < 4 also lists
  // as inputs), then float initializers: the function arguments.
  SmallVector<Type> argumentTypes;
  SmallVector<NamedAttrList> argumentAttributes;
  SmallVector<std::string> argumentOnnxNames;
  for (const onnx::ValueInfoProto &info : graph.input()) {
    if (initializerNames.contains(info.name()))
      continue;
    if (info.name().empty() || !argumentNames.insert(info.name()).second) {
      emitError() << "graph input names must be unique and non-empty, got '"
                  << info.name() << "'";
      return nullptr;
    }
    RankedTensorType type;
    if (failed(importInputType(info, type)))
      return nullptr;
    argumentTypes.push_back(type);
    NamedAttrList attrs;
    attrs.set("bism.onnx_name", StringAttr::get(context, info.name()));
    argumentAttributes.push_back(attrs);
    argumentOnnxNames.push_back(info.name());
  }
  size_t numGraphInputs = argumentTypes.size();
  SmallVector<Attribute> parameterNames;
  for (const onnx::TensorProto &tensor : graph.initializer()) {
    auto data = std::make_shared<KnownTensor>();
    std::string error = decodeTensor(tensor, externalDataDirectory_, *data);
    if (!error.empty()) {
      emitError() << "initializer: " << error;
      return nullptr;
    }
    if (argumentNames.contains(tensor.name())) {
      emitError() << "initializer '" << tensor.name()
                  << "' has the name of a graph input";
      return nullptr;
    }
    if (!data->isFloat() || options_.frozenInitializers.count(tensor.name())) {
      define(tensor.name(), ImportedValue{nullptr, data});
      continue;
    }
    if (data->numElements() == 0) {
      emitError() << "initializer '" << tensor.name()
                  << "' is empty, which bism cannot represent";
      return nullptr;
    }
    auto type = RankedTensorType::get(data->shape,
                                      floatElementType(context, data->dataType));
    argumentTypes.push_back(type);
    NamedAttrList attrs;
    attrs.set("bism.param_name", StringAttr::get(context, tensor.name()));
    attrs.set("bism.init", toElementsAttr(*data, type));
    int64_t uses = useCounts_.lookup(tensor.name());
    if (uses > 0 && statisticUses.lookup(tensor.name()) == uses)
      attrs.set("bism.trainable", BoolAttr::get(context, false));
    argumentAttributes.push_back(attrs);
    argumentOnnxNames.push_back(tensor.name());
    parameterNames.push_back(StringAttr::get(context, tensor.name()));
  }

  // A misspelt --onnx-freeze name would leave its weight trainable unseen.
  for (const std::string &frozen : options_.frozenInitializers)
    if (llvm::none_of(graph.initializer(), [&](const onnx::TensorProto &t) {
          return t.name() == frozen;
        })) {
      emitError() << "--onnx-freeze: the graph has no initializer named '"
                  << frozen << "'";
      return nullptr;
    }

  std::string name = functionName();
  if (SymbolTable::lookupSymbolIn(module_, name)) {
    emitError() << "the module already has a symbol named '" << name
                << "'; choose another function name";
    return nullptr;
  }
  auto function = func::FuncOp::create(
      fileLoc_, name, FunctionType::get(context, argumentTypes, {}));
  module_.push_back(function);
  entry_ = function.addEntryBlock();
  builder_.setInsertionPointToStart(entry_);
  auto fail = [&]() -> func::FuncOp {
    function.erase();
    return nullptr;
  };
  for (size_t i = 0; i < argumentTypes.size(); ++i)
    define(argumentOnnxNames[i], ImportedValue{entry_->getArgument(unsigned(i)),
                                               nullptr});

  for (int i = 0; i < graph.node_size(); ++i)
    if (failed(importNode(graph.node(i), size_t(i))))
      return fail();

  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  SmallVector<DictionaryAttr> resultAttributes;
  for (const onnx::ValueInfoProto &info : graph.output()) {
    ImportedValue *value = lookup(info.name());
    if (!value) {
      emitError() << "graph output '" << info.name() << "' is never produced";
      return fail();
    }
    if (!value->value) {
      if (!value->known->isFloat() || value->known->numElements() == 0) {
        emitError() << "graph output '" << info.name() << "' is a "
                    << dataTypeName(value->known->dataType)
                    << " tensor; only float outputs are supported";
        return fail();
      }
      materialize(*value);
    }
    if (failed(checkOutput(info, value->value)))
      return fail();
    results.push_back(value->value);
    resultTypes.push_back(value->value.getType());
    resultAttributes.push_back(builder_.getDictionaryAttr(
        builder_.getNamedAttr("bism.onnx_name", builder_.getStringAttr(info.name()))));
  }
  if (results.empty()) {
    emitError() << "the graph has no outputs";
    return fail();
  }
  builder_.setInsertionPointToEnd(entry_);
  func::ReturnOp::create(builder_, fileLoc_, results);
  // Nodes whose outputs nothing reads (unused Split parts, dead branches of
  // the exporter) leave no ops behind.
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(*entry_)))
    if (isOpTriviallyDead(&op))
      op.erase();
  function.setType(FunctionType::get(context, argumentTypes, resultTypes));

  for (size_t i = 0; i < argumentAttributes.size(); ++i)
    function.setArgAttrs(unsigned(i),
                         argumentAttributes[i].getDictionary(context));
  for (size_t i = 0; i < resultAttributes.size(); ++i)
    function.setResultAttrs(unsigned(i), resultAttributes[i]);
  NamedAttrList onnx;
  onnx.set("ir_version", builder_.getI64IntegerAttr(model_.ir_version()));
  onnx.set("opset", builder_.getI64IntegerAttr(defaultOpset_));
  if (!model_.producer_name().empty())
    onnx.set("producer", builder_.getStringAttr(
                             model_.producer_name() +
                             (model_.producer_version().empty()
                                  ? ""
                                  : " " + model_.producer_version())));
  function->setAttr("bism.onnx", onnx.getDictionary(context));
  function->setAttr("bism.num_inputs",
                    builder_.getI64IntegerAttr(int64_t(numGraphInputs)));
  function->setAttr("bism.parameters", builder_.getArrayAttr(parameterNames));
  function->setAttr("bism.param_group",
                    builder_.getStringAttr(options_.parameterGroup.empty()
                                               ? name
                                               : options_.parameterGroup));

  if (failed(verify(function))) {
    emitError() << "the imported function fails verification (an importer "
                   "bug; please report it with the model)";
    return fail();
  }
  return function;
}

} // namespace onnx_import

using namespace onnx_import;

std::string parseONNXDimOption(StringRef text, ONNXImportOptions &options) {
  auto [name, size] = text.contains('=') ? text.split('=')
                                         : std::make_pair(StringRef(), text);
  name = name.trim();
  int64_t value = 0;
  if (size.trim().getAsInteger(10, value) || value <= 0)
    return "invalid --onnx-dim '" + text.str() +
           "': expected NAME=SIZE or SIZE with a positive SIZE";
  if (text.contains('=') && name.empty())
    return "invalid --onnx-dim '" + text.str() + "': the name is empty";
  if (name.empty())
    options.defaultDimSize = value;
  else
    options.dimSizes[name.str()] = value;
  return "";
}

void registerONNXImportDialects(DialectRegistry &registry) {
  registry.insert<bism::BismDialect, func::FuncDialect>();
}

namespace {

bool looksLikeText(StringRef bytes, StringRef bufferName) {
  StringRef extension = llvm::sys::path::extension(bufferName);
  if (extension == ".onnxtext" || extension == ".onnxtxt" || extension == ".txt")
    return true;
  if (extension == ".onnx")
    return false;
  StringRef start = bytes.ltrim();
  return !start.empty() && (start.front() == '<' || start.front() == '#');
}

} // namespace

Operation *importONNXBufferInto(ModuleOp module, StringRef bytes,
                                StringRef bufferName,
                                const ONNXImportOptions &options) {
  MLIRContext *context = module.getContext();
  context->loadDialect<bism::BismDialect, func::FuncDialect>();
  Location fileLoc = FileLineColLoc::get(context, bufferName, 0, 0);

  onnx::ModelProto model;
  bool text = options.format == ONNXFormat::Text ||
              (options.format == ONNXFormat::Auto && looksLikeText(bytes, bufferName));
  if (text) {
    std::string error = parseONNXText(bytes, model);
    if (!error.empty()) {
      emitError(fileLoc) << "'" << bufferName
                         << "' is not a valid ONNX text model: " << error;
      return nullptr;
    }
  } else {
    if (bytes.size() > size_t(INT_MAX)) {
      emitError(fileLoc) << "'" << bufferName
                         << "' is larger than 2 GiB; store the weights as "
                            "external data";
      return nullptr;
    }
    if (bytes.empty() || !model.ParseFromArray(bytes.data(), int(bytes.size()))) {
      emitError(fileLoc) << "'" << bufferName
                         << "' is not a valid ONNX model (the protobuf "
                            "cannot be parsed: the file is empty, truncated "
                            "or corrupt)";
      return nullptr;
    }
  }

  std::string directory = options.externalDataDirectory;
  if (directory.empty()) {
    directory = llvm::sys::path::parent_path(bufferName).str();
    if (directory.empty())
      directory = ".";
  }
  GraphImporter importer(module, model, options, bufferName, directory);
  func::FuncOp function = importer.run();
  return function ? function.getOperation() : nullptr;
}

OwningOpRef<ModuleOp> importONNXBuffer(StringRef bytes, StringRef bufferName,
                                       MLIRContext *context,
                                       const ONNXImportOptions &options) {
  OwningOpRef<ModuleOp> module =
      ModuleOp::create(FileLineColLoc::get(context, bufferName, 0, 0));
  if (!importONNXBufferInto(*module, bytes, bufferName, options))
    return nullptr;
  return module;
}

OwningOpRef<ModuleOp> importONNXFile(StringRef path, MLIRContext *context,
                                     const ONNXImportOptions &options) {
  // Bounded by protobuf's largest message (2 GiB); external data is read
  // separately.
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> file =
      readBoundedInput(path, uint64_t(2) << 30, error, "ONNX file");
  if (!file) {
    emitError(FileLineColLoc::get(context, path, 0, 0)) << error;
    return nullptr;
  }
  return importONNXBuffer(file->getBuffer(), path, context, options);
}

} // namespace bism
