//===- BismDialect.td - the bism dialect -------------------*- tablegen -*-===//
//
// Model-level IR for energy-based latent variable models: value semantics on
// statically shaped f32/f64 tensors (DESIGN.md section 3.1).
//
//===----------------------------------------------------------------------===//
#ifndef BISM_DIALECT_TD
#define BISM_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Bism_Dialect : Dialect {
  let name = "bism";
  let cppNamespace = "::bism";
  let summary = "Energies, posteriors and their training steps as tensor programs";
  let description = [{
    Ops act on ranked tensors with static shapes and f32 or f64 elements.
    Binary elementwise ops require identical operand types; shape changes are
    always explicit (`bism.broadcast`, `bism.reshape`), so that every shape
    change has a single derivative rule (broadcast <-> reduce).
  }];
  let hasConstantMaterializer = 1;
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

class Bism_Op<string mnemonic, list<Trait> traits = []>
    : Op<Bism_Dialect, mnemonic, traits>;

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def Bism_FloatElement : AnyTypeOf<[F32, F64]>;

// A ranked tensor of f32 or f64. A `?` dimension is the batch dimension:
// model files write it once per type and bism-specialize-batch sets it to the
// spec's batch_size before anything else transforms the module.
def Bism_Tensor : Type<
    And<[TensorOf<[F32, F64]>.predicate, HasRankPred]>,
    "ranked tensor of f32 or f64 values", "::mlir::RankedTensorType">;

// A statically shaped tensor of f32 or f64 (parameters have no batch).
def Bism_StaticTensor : Type<
    And<[TensorOf<[F32, F64]>.predicate, HasStaticShapePred]>,
    "statically shaped tensor of f32 or f64 values", "::mlir::RankedTensorType">;

// A ranked tensor of i1 (results of comparisons).
def Bism_BoolTensor : Type<
    And<[TensorOf<[I1]>.predicate, HasRankPred]>,
    "ranked tensor of i1 values", "::mlir::RankedTensorType">;

// A random key: two 32-bit words (the Philox-4x32 key), tensor<2xi32>.
def Bism_KeyType : Type<
    And<[TensorOf<[I32]>.predicate, HasStaticShapePred,
         CPred<"::llvm::cast<::mlir::RankedTensorType>($_self).getShape() == "
               "::llvm::ArrayRef<int64_t>{2}">]>,
    "random key tensor<2xi32>", "::mlir::RankedTensorType">,
  BuildableType<"::mlir::RankedTensorType::get({2}, $_builder.getI32Type())">;

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Bism_ComparePredicate : I32EnumAttr<"ComparePredicate",
    "ordered float comparison", [
      I32EnumAttrCase<"eq", 0>, I32EnumAttrCase<"ne", 1>,
      I32EnumAttrCase<"lt", 2>, I32EnumAttrCase<"le", 3>,
      I32EnumAttrCase<"gt", 4>, I32EnumAttrCase<"ge", 5>]> {
  let cppNamespace = "::bism";
}

#endif // BISM_DIALECT_TD
