//===- SpectralNorm.cpp - spectral normalisation of energy weights --------===//
#include "bism/Train/SpectralNorm.h"

#include "bism/Dialect/Bism.h"
#include "bism/Dialect/DerivativeBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"

#include <cmath>

using namespace mlir;

namespace bism::train {

namespace {

/// W / σ(W) for a parameter value `w` (rank ≥ 2), emitted at `b`.
Value spectrallyNormalised(OpBuilder &b, Location loc, Value w,
                           int64_t iterations) {
  DerivativeBuilder d(b, loc);
  auto type = cast<RankedTensorType>(w.getType());
  int64_t rows = type.getDimSize(0), cols = type.getNumElements() / rows;
  Type element = type.getElementType();
  auto matrix = RankedTensorType::get({rows, cols}, element);
  auto scalar = RankedTensorType::get({}, element);
  Value w2 = d.reshape(w, matrix);
  Value fixed = StopGradientOp::create(b, loc, w2).getResult();
  auto normalised = [&](Value x) {
    auto xType = cast<RankedTensorType>(x.getType());
    Value norm = d.create<SqrtOp>(d.add(
        d.reduceSum(d.create<SquareOp>(x), {0, 1}, false), d.splat(scalar, 1e-24)));
    return d.div(x, d.broadcastTo(norm, xType));
  };
  // u [1, rows], v [1, cols]: power iterations on the held matrix, in an
  // scf.for (the autodiff unrolls it where the energy is differentiated;
  // elsewhere it stays a loop); nothing in it is differentiated.
  auto rowType = RankedTensorType::get({1, rows}, element);
  auto colType = RankedTensorType::get({1, cols}, element);
  auto index = [&](int64_t value) {
    return arith::ConstantIndexOp::create(b, loc, value).getResult();
  };
  auto loop = scf::ForOp::create(
      b, loc, index(0), index(iterations), index(1),
      ValueRange{d.splat(rowType, 1.0 / std::sqrt(double(rows))),
                 d.splat(colType, 1.0 / std::sqrt(double(cols)))});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value uIn = loop.getRegionIterArgs()[0];
    Value vNext = normalised(d.matmul(uIn, fixed, false, false));
    Value uNext = normalised(d.matmul(vNext, fixed, false, true));
    scf::YieldOp::create(b, loc, ValueRange{uNext, vNext});
  }
  Value u = StopGradientOp::create(b, loc, loop.getResult(0)).getResult();
  Value v = StopGradientOp::create(b, loc, loop.getResult(1)).getResult();
  // σ = uᵀ W̄ v through W̄ itself: the gradient reaches W.
  Value sigma = d.reduceSum(d.mul(u, d.matmul(v, w2, false, true)), {0, 1}, false);
  return d.div(w, d.broadcastTo(sigma, type));
}

struct Clause {
  FlatSymbolRefAttr function;
  ArrayAttr params;
  unsigned firstParam; // the function's arguments before its parameters
  bool energy;         // energy (else free energy)
};

} // namespace

LogicalResult applySpectralNorm(ModuleOp module) {
  for (ModelOp model : llvm::to_vector(module.getOps<ModelOp>())) {
    Attribute field = model.getSpec().get("spectral_norm");
    if (!field)
      continue;
    auto list = dyn_cast<ArrayAttr>(field);
    if (!list || !llvm::all_of(list, llvm::IsaPred<StringAttr>))
      return model.emitOpError()
             << "spec field 'spectral_norm' must be a list of parameter names, "
             << "got " << field;
    int64_t iterations = kSpectralNormIterations;
    if (Attribute count = model.getSpec().get("spectral_norm_iterations")) {
      auto value = dyn_cast<IntegerAttr>(count);
      if (!value || value.getInt() < 1 ||
          value.getInt() > kMaxSpectralNormIterations)
        return model.emitOpError()
               << "spec field 'spectral_norm_iterations' must be an integer "
               << "from 1 to " << kMaxSpectralNormIterations << ", got "
               << count;
      iterations = value.getInt();
    }
    SmallVector<StringRef> names;
    for (Attribute entry : list)
      names.push_back(cast<StringAttr>(entry).getValue());
    SmallVector<Clause> clauses;
    if (model.getEnergy())
      clauses.push_back({model.getEnergyAttr(), *model.getEnergyParams(), 2, true});
    if (model.getFreeEnergy())
      clauses.push_back(
          {model.getFreeEnergyAttr(), *model.getFreeEnergyParams(), 1, false});
    SmallVector<bool> found(names.size(), false);
    for (const Clause &clause : clauses) {
      auto func = dyn_cast_or_null<func::FuncOp>(
          SymbolTable::lookupSymbolIn(module, clause.function.getAttr()));
      if (!func)
        continue; // readModel says which function is missing
      SmallVector<unsigned> positions;
      for (auto [index, entry] : llvm::enumerate(clause.params)) {
        StringRef param = cast<FlatSymbolRefAttr>(entry).getValue();
        auto it = llvm::find(names, param);
        if (it == names.end())
          continue;
        found[it - names.begin()] = true;
        positions.push_back(clause.firstParam + unsigned(index));
      }
      if (positions.empty())
        continue;
      for (unsigned position : positions) {
        auto type = dyn_cast<RankedTensorType>(
            func.getFunctionType().getInput(position));
        if (!type || type.getRank() < 2)
          return model.emitOpError()
                 << "spec field 'spectral_norm' names '"
                 << cast<FlatSymbolRefAttr>(
                        clause.params[position - clause.firstParam])
                        .getValue()
                 << "', of type " << func.getFunctionType().getInput(position)
                 << ": spectral normalisation needs a matrix or a kernel "
                 << "(rank >= 2)";
      }
      std::string name = (func.getSymName() + "__spectral_norm").str();
      if (SymbolTable::lookupSymbolIn(module, name))
        return model.emitOpError()
               << "cannot apply spectral_norm: @" << name
               << " is already defined";
      OpBuilder b(module.getContext());
      b.setInsertionPointAfter(func);
      auto wrapper = func::FuncOp::create(b, func.getLoc(), name,
                                          func.getFunctionType());
      wrapper.setPrivate();
      Block *entry = wrapper.addEntryBlock();
      b.setInsertionPointToStart(entry);
      SmallVector<Value> arguments(entry->getArguments());
      for (unsigned position : positions)
        arguments[position] =
            spectrallyNormalised(b, func.getLoc(), arguments[position],
                                 iterations);
      auto call = func::CallOp::create(b, func.getLoc(), func, arguments);
      func::ReturnOp::create(b, func.getLoc(), call.getResults());
      auto ref = FlatSymbolRefAttr::get(module.getContext(), name);
      if (clause.energy)
        model.setEnergyAttr(ref);
      else
        model.setFreeEnergyAttr(ref);
    }
    for (auto [name, hit] : llvm::zip_equal(names, found))
      if (!hit)
        return model.emitOpError()
               << "spec field 'spectral_norm' names '" << name
               << "', which neither the energy nor the free energy lists";
  }
  return success();
}

} // namespace bism::train
