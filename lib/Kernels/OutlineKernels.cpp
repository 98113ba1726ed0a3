//===- OutlineKernels.cpp - each kernel a function of its own -------------===//
//
// On bufferised IR: the ops sharing one `bism.kernel` name move into a
// private function of that name, called where they were. Identical kernels
// share a function (printed form as the key), so what the back ends compile
// grows with the distinct kernels, not with the unrolled steps.
//
//===----------------------------------------------------------------------===//
#include "bism/Kernels/Kernels.h"
#include "bism/Lowering/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace bism;

namespace bism {
#define GEN_PASS_DEF_BISMOUTLINEKERNELS
#include "bism/Lowering/Passes.h.inc"
} // namespace bism

namespace {

/// The allocation (or block argument) a buffer is a view of.
Value bufferRoot(Value value) {
  while (Operation *definition = value.getDefiningOp()) {
    auto view = dyn_cast<ViewLikeOpInterface>(definition);
    if (!view)
      break;
    value = view.getViewSource();
  }
  return value;
}

/// Number of LLVM arguments a value of `type` becomes at a call (memref
/// descriptors expand to allocated, aligned, offset, sizes, strides).
int64_t llvmArgumentCount(Type type) {
  if (auto memref = dyn_cast<MemRefType>(type))
    return 3 + 2 * memref.getRank();
  return 1;
}

/// The kernel's printed form under a fixed name: equal for identical
/// kernels. Local scope: printing must not walk the whole module per kernel.
std::string printedKey(func::FuncOp func) {
  StringAttr name = func.getSymNameAttr();
  func.setSymName("kernel");
  std::string text;
  llvm::raw_string_ostream os(text);
  func->print(os, OpPrintingFlags()
                      .printGenericOpForm()
                      .useLocalScope()
                      .elideLargeElementsAttrs(1 << 20));
  func.setSymNameAttr(name);
  return text;
}

struct KernelOutliner {
  ModuleOp module;
  SymbolTable symbols;
  llvm::StringMap<func::FuncOp> byBody;

  explicit KernelOutliner(ModuleOp module) : module(module), symbols(module) {}

  void outline(StringAttr name, ArrayRef<Operation *> ops);
};

void KernelOutliner::outline(StringAttr name, ArrayRef<Operation *> ops) {
  MLIRContext *ctx = module.getContext();
  Block *block = ops.front()->getBlock();
  if (!llvm::all_of(ops, [&](Operation *op) { return op->getBlock() == block; }))
    return;
  llvm::SmallPtrSet<Operation *, 4> members(ops.begin(), ops.end());

  // Values the kernel reads or writes, defined outside it.
  llvm::SetVector<Value> captured;
  for (Operation *op : ops) {
    for (Value operand : op->getOperands())
      if (!members.contains(operand.getDefiningOp()))
        captured.insert(operand);
    for (Region &region : op->getRegions())
      getUsedValuesDefinedAbove(region, captured);
  }
  // Constants are cloned into the kernel; the rest become arguments.
  SmallVector<Value> arguments, constants;
  for (Value value : captured) {
    Operation *definition = value.getDefiningOp();
    if (definition && definition->hasTrait<OpTrait::ConstantLike>() &&
        definition->getNumOperands() == 0 && !isa<ShapedType>(value.getType()))
      constants.push_back(value);
    else
      arguments.push_back(value);
  }

  // Buffers no other argument shares may be marked noalias (by LLVM
  // argument position of the aligned pointer).
  SmallVector<int64_t> noalias;
  int64_t llvmPosition = 0;
  for (Value argument : arguments) {
    if (isa<MemRefType>(argument.getType())) {
      Value root = bufferRoot(argument);
      bool shared = llvm::any_of(arguments, [&](Value other) {
        return other != argument && isa<MemRefType>(other.getType()) &&
               bufferRoot(other) == root;
      });
      if (!shared)
        noalias.push_back(llvmPosition + 1);
    }
    llvmPosition += llvmArgumentCount(argument.getType());
  }

  OpBuilder builder(ctx);
  builder.setInsertionPointToEnd(module.getBody());
  SmallVector<Type> argumentTypes;
  for (Value argument : arguments)
    argumentTypes.push_back(argument.getType());
  auto kernel = func::FuncOp::create(builder, ops.front()->getLoc(), name,
                                     builder.getFunctionType(argumentTypes, {}));
  kernel.setPrivate();
  // A matmul sent to BLAS leaves its initialising fill as the kernel.
  kernel->setAttr(kKernelKindAttr,
                  builder.getStringAttr(kernelKindName(KernelKind::Fill)));
  for (Operation *op : ops)
    if (Attribute kind = op->getAttr(kKernelKindAttr))
      kernel->setAttr(kKernelKindAttr, kind);
  kernel->setAttr("passthrough",
                  builder.getArrayAttr({builder.getStringAttr("noinline")}));
  if (!noalias.empty())
    kernel->setAttr(kNoaliasArgsAttr, builder.getDenseI64ArrayAttr(noalias));
  Block *body = kernel.addEntryBlock();
  builder.setInsertionPointToStart(body);
  IRMapping mapping;
  for (auto [value, argument] : llvm::zip(arguments, body->getArguments()))
    mapping.map(value, argument);
  for (Value constant : constants)
    mapping.map(constant, builder.clone(*constant.getDefiningOp())->getResult(0));
  for (Operation *op : ops) {
    Operation *copy = builder.clone(*op, mapping);
    copy->removeAttr(kKernelNameAttr);
    copy->removeAttr(kKernelKindAttr);
  }
  func::ReturnOp::create(builder, kernel.getLoc());

  // Share the function of an identical kernel.
  std::string key = printedKey(kernel);
  auto [existing, inserted] = byBody.try_emplace(key, kernel);
  if (inserted)
    symbols.insert(kernel); // renames on a clash
  else
    kernel.erase();
  func::FuncOp callee = existing->second;

  builder.setInsertionPoint(ops.back());
  func::CallOp::create(builder, ops.back()->getLoc(), callee, arguments);
  for (Operation *op : ops)
    op->erase();
}

struct OutlineKernelsPass
    : bism::impl::BismOutlineKernelsBase<OutlineKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    KernelOutliner outliner(module);
    for (auto func : llvm::to_vector(module.getOps<func::FuncOp>())) {
      if (func->hasAttr(bism::kKernelKindAttr) || func.isExternal())
        continue;
      llvm::MapVector<StringAttr, SmallVector<Operation *>> groups;
      func.walk([&](Operation *op) {
        if (auto name = op->getAttrOfType<StringAttr>(bism::kKernelNameAttr))
          groups[name].push_back(op);
      });
      for (auto &[name, ops] : groups)
        outliner.outline(name, ops);
    }
  }
};

} // namespace
