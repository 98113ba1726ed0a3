//===- BismAutodiffOps.cpp - verification of grad/vjp/jvp/hvp -------------===//
#include "bism/Dialect/Bism.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

using namespace mlir;
using namespace bism;

namespace {

enum class AutodiffKind { Grad, Vjp, Jvp, Hvp };

bool isFloatTensor(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && tensor.hasStaticShape() &&
         (tensor.getElementType().isF32() || tensor.getElementType().isF64());
}

template <typename OpTy>
func::FuncOp lookupCallee(OpTy op, SymbolTableCollection &symbols) {
  return symbols.lookupNearestSymbolFrom<func::FuncOp>(op, op.getCalleeAttr());
}

/// The rules shared by the four ops: the callee exists, its arguments match,
/// `wrt` lists distinct float arguments, and seeds/results have the types
/// each kind prescribes.
template <typename OpTy>
LogicalResult verifyAutodiffOp(OpTy op, SymbolTableCollection &symbols,
                               AutodiffKind kind) {
  func::FuncOp callee = lookupCallee(op, symbols);
  if (!callee)
    return op.emitOpError() << "callee " << op.getCalleeAttr()
                            << " is not a func.func in scope";
  FunctionType type = callee.getFunctionType();
  unsigned numInputs = type.getNumInputs();
  if (op.getOperands().size() < numInputs)
    return op.emitOpError() << "needs the callee's " << numInputs
                            << " arguments, got " << op.getOperands().size()
                            << " operands";
  for (unsigned i = 0; i < numInputs; ++i)
    if (op.getOperands()[i].getType() != type.getInput(i))
      return op.emitOpError() << "operand " << i << " has type "
                              << op.getOperands()[i].getType()
                              << " but the callee's argument " << i << " is "
                              << type.getInput(i);

  ArrayRef<int64_t> wrt = op.getWrt();
  if (wrt.empty())
    return op.emitOpError() << "'wrt' must list at least one argument";
  SmallVector<bool> seen(numInputs, false);
  SmallVector<Type> wrtTypes;
  for (int64_t index : wrt) {
    if (index < 0 || index >= int64_t(numInputs))
      return op.emitOpError() << "'wrt' index " << index
                              << " is out of range for " << numInputs
                              << " arguments";
    if (seen[index])
      return op.emitOpError() << "'wrt' lists argument " << index << " twice";
    seen[index] = true;
    if (!isFloatTensor(type.getInput(index)))
      return op.emitOpError() << "cannot differentiate w.r.t. argument "
                              << index << " of type " << type.getInput(index)
                              << " (needs an f32/f64 tensor)";
    wrtTypes.push_back(type.getInput(index));
  }
  for (auto [index, result] : llvm::enumerate(type.getResults()))
    if (!isFloatTensor(result))
      return op.emitOpError() << "callee result " << index << " has type "
                              << result << "; only f32/f64 tensors can be "
                              << "differentiated";

  bool scalarCallee = kind == AutodiffKind::Grad || kind == AutodiffKind::Hvp;
  if (scalarCallee &&
      (type.getNumResults() != 1 ||
       cast<RankedTensorType>(type.getResult(0)).getRank() != 0))
    return op.emitOpError() << "callee must return one rank-0 tensor (a "
                            << "scalar), it returns " << type.getResults();

  SmallVector<Type> expectedSeeds, expectedResults;
  switch (kind) {
  case AutodiffKind::Grad:
    expectedResults = wrtTypes;
    break;
  case AutodiffKind::Vjp:
    expectedSeeds.assign(type.getResults().begin(), type.getResults().end());
    expectedResults = wrtTypes;
    break;
  case AutodiffKind::Jvp:
    expectedSeeds = wrtTypes;
    expectedResults.assign(type.getResults().begin(), type.getResults().end());
    break;
  case AutodiffKind::Hvp:
    expectedSeeds = wrtTypes;
    expectedResults = wrtTypes;
    break;
  }
  auto seeds = op.getOperands().drop_front(numInputs);
  if (TypeRange(seeds) != TypeRange(expectedSeeds))
    return op.emitOpError() << "after the callee's arguments expects "
                            << expectedSeeds.size() << " operands of types ("
                            << TypeRange(expectedSeeds) << "), got ("
                            << TypeRange(seeds) << ")";
  if (op.getResultTypes() != TypeRange(expectedResults))
    return op.emitOpError() << "result types must be ("
                            << TypeRange(expectedResults) << "), got ("
                            << op.getResultTypes() << ")";
  return success();
}

template <typename OpTy> OperandRange calleeArguments(OpTy op) {
  auto callee = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
      op, op.getCalleeAttr());
  assert(callee && "verified op");
  return op.getOperands().take_front(callee.getNumArguments());
}

} // namespace

#define BISM_AUTODIFF_OP(Name, Kind)                                           \
  LogicalResult Name::verifySymbolUses(SymbolTableCollection &symbols) {       \
    return verifyAutodiffOp(*this, symbols, AutodiffKind::Kind);               \
  }                                                                            \
  OperandRange Name::getCalleeArguments() { return calleeArguments(*this); }   \
  OperandRange Name::getSeeds() {                                              \
    return getOperands().drop_front(getCalleeArguments().size());              \
  }
BISM_AUTODIFF_OP(GradOp, Grad)
BISM_AUTODIFF_OP(VjpOp, Vjp)
BISM_AUTODIFF_OP(JvpOp, Jvp)
BISM_AUTODIFF_OP(HvpOp, Hvp)
#undef BISM_AUTODIFF_OP
