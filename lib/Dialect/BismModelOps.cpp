//===- BismModelOps.cpp - verification of bism.model and bism.param -------===//
//
// Local checks only (each param is well formed, names are unique); the
// cross-checks against the energy and posterior functions and the spec live
// in bism::train::readModel, which reports them at the same places.
//
//===----------------------------------------------------------------------===//
#include "bism/Dialect/Bism.h"

using namespace mlir;
using namespace bism;

LogicalResult ParamOp::verify() {
  StringRef group = getGroup();
  if (group != "theta" && group != "phi")
    return emitOpError() << "group must be \"theta\" or \"phi\", got \""
                         << group << "\"";
  StringRef init = getInit();
  auto require = [&](bool present, StringRef field) -> LogicalResult {
    if (!present)
      return emitOpError() << "init \"" << init << "\" needs '" << field << "'";
    return success();
  };
  if (init == "zeros")
    return success();
  if (init == "constant") {
    if (failed(require(bool(getValue()), "value")))
      return failure();
    if (!isa<FloatAttr>(*getValue()))
      return emitOpError() << "init \"constant\" needs a number as 'value', "
                           << "got " << *getValue();
    return success();
  }
  if (init == "value") {
    if (failed(require(bool(getValue()), "value")))
      return failure();
    // The value is the tensor itself, so it must be one of this type.
    auto tensor = dyn_cast<DenseFPElementsAttr>(*getValue());
    if (!tensor || tensor.getType() != getType())
      return emitOpError() << "init \"value\" needs a dense tensor of the "
                           << "parameter's type " << getType()
                           << " as 'value', got " << *getValue();
    return success();
  }
  if (init == "normal") {
    if (failed(require(bool(getStd()), "std")))
      return failure();
    if (getStd()->convertToDouble() < 0)
      return emitOpError() << "'std' must be non-negative";
    return success();
  }
  if (init == "uniform") {
    if (failed(require(bool(getLow()), "low")) ||
        failed(require(bool(getHigh()), "high")))
      return failure();
    if (getLow()->convertToDouble() > getHigh()->convertToDouble())
      return emitOpError() << "'low' must not exceed 'high'";
    return success();
  }
  if (init == "kaiming_uniform") {
    if (getType().getRank() < 1)
      return emitOpError() << "kaiming_uniform needs rank >= 1 (fan-in is "
                           << "dimension 0)";
    return success();
  }
  return emitOpError() << "unknown init \"" << init
                       << "\"; expected zeros, constant, value, normal, "
                       << "uniform or kaiming_uniform";
}

LogicalResult ModelOp::verifyRegions() {
  if (!getEnergy() && !getFreeEnergy())
    return emitOpError() << "needs an 'energy' or a 'free_energy' clause";
  if (bool(getEnergy()) != bool(getEnergyParams()) ||
      bool(getFreeEnergy()) != bool(getFreeEnergyParams()) ||
      bool(getGibbs()) != bool(getGibbsParams()) ||
      bool(getComponentLogMass()) != bool(getComponentLogMassParams()) ||
      bool(getGenerator()) != bool(getGeneratorParams()) ||
      bool(getPosterior()) != bool(getPosteriorKind()) ||
      bool(getPosterior()) != bool(getPosteriorParams()))
    return emitOpError() << "each of the energy, free_energy, gibbs, "
                         << "component_log_mass, generator and posterior "
                         << "clauses needs its function and parameter list";
  std::optional<StringRef> kind = getPosteriorKind();
  if (kind && *kind != "gaussian" && *kind != "bernoulli")
    return emitOpError() << "posterior kind must be \"gaussian\" or "
                         << "\"bernoulli\", got \"" << *kind << "\"";
  if (getTemperature() && kind != "bernoulli")
    return emitOpError() << "'temperature' applies to the bernoulli "
                         << "posterior only";
  if (getTemperature() && getTemperature()->convertToDouble() <= 0)
    return emitOpError() << "'temperature' must be positive";
  for (Operation &op : getBody().front())
    if (!isa<ParamOp>(op))
      return op.emitOpError() << "is not allowed in a bism.model (only "
                              << "bism.param)";
  auto checkList = [&](std::optional<ArrayAttr> list, StringRef what,
                       StringRef group) -> LogicalResult {
    if (!list)
      return success();
    for (Attribute entry : *list) {
      auto ref = dyn_cast<FlatSymbolRefAttr>(entry);
      if (!ref)
        return emitOpError() << what << " parameters must be symbol "
                             << "references, got " << entry;
      Operation *param = mlir::SymbolTable::lookupSymbolIn(*this, ref.getAttr());
      if (!param)
        return emitOpError() << what << " parameter " << ref
                             << " is not declared in the model";
      if (cast<ParamOp>(param).getGroup() != group)
        return emitOpError() << what << " parameter " << ref
                             << " must be in group \"" << group << "\"";
    }
    return success();
  };
  return failure(
      failed(checkList(getEnergyParams(), "energy", "theta")) ||
      failed(checkList(getFreeEnergyParams(), "free energy", "theta")) ||
      failed(checkList(getGibbsParams(), "gibbs", "theta")) ||
      failed(checkList(getComponentLogMassParams(), "component_log_mass",
                       "theta")) ||
      failed(checkList(getPosteriorParams(), "posterior", "phi")) ||
      failed(checkList(getGeneratorParams(), "generator", "phi")));
}
