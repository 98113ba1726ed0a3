//===- BismAutodiffOps.td - differentiation ops ------------*- tablegen -*-===//
//
// These ops name a func.func and ask for a derivative of it at the given
// arguments. `--bism-autodiff` replaces each by explicit bism code, innermost
// first (see lib/Autodiff/), so the result can be differentiated again.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_AUTODIFF_OPS_TD
#define BISM_AUTODIFF_OPS_TD

include "mlir/IR/SymbolInterfaces.td"

class Bism_AutodiffOp<string mnemonic, string doc>
    : Bism_Op<mnemonic, [Pure, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = doc;
  let arguments = (ins FlatSymbolRefAttr:$callee,
                       Variadic<AnyStaticShapeTensor>:$operands,
                       DenseI64ArrayAttr:$wrt);
  let results = (outs Variadic<Bism_Tensor>:$results);
  let assemblyFormat = [{
    $callee `(` $operands `)` `wrt` $wrt attr-dict `:` functional-type($operands, $results)
  }];
  let extraClassDeclaration = [{
    /// The operands that are arguments of the callee.
    ::mlir::OperandRange getCalleeArguments();
    /// The operands after the callee's arguments (cotangents, tangents or
    /// the HVP direction); empty for grad.
    ::mlir::OperandRange getSeeds();
  }];
}

def Bism_GradOp : Bism_AutodiffOp<"grad",
    "gradient of a scalar-valued function w.r.t. chosen arguments"> {
  let description = [{
    The callee returns one rank-0 float tensor. The results are its gradients
    with respect to the arguments listed in `wrt`, in that order.

    ```mlir
    %dv, %dw = bism.grad @energy(%v, %w) wrt [0, 1]
        : (tensor<8x2xf64>, tensor<2x4xf64>) -> (tensor<8x2xf64>, tensor<2x4xf64>)
    ```
  }];
}

def Bism_VjpOp : Bism_AutodiffOp<"vjp", "vector-Jacobian product (reverse mode)"> {
  let description = [{
    Operands: the callee's arguments, then one cotangent per callee result.
    Results: the cotangents of the arguments listed in `wrt`.
  }];
}

def Bism_JvpOp : Bism_AutodiffOp<"jvp", "Jacobian-vector product (forward mode)"> {
  let description = [{
    Operands: the callee's arguments, then one tangent per argument listed in
    `wrt`. Results: one tangent per callee result.
  }];
}

def Bism_HvpOp : Bism_AutodiffOp<"hvp",
    "Hessian-vector product of a scalar function (forward over reverse)"> {
  let description = [{
    Operands: the callee's arguments, then one direction per argument listed
    in `wrt`. Results: H v restricted to the `wrt` arguments, where H is the
    Hessian of the scalar callee w.r.t. those arguments jointly. Expanded as
    the forward-mode derivative of the reverse-mode gradient, so the primal
    computation is shared with a `bism.grad` of the same call after CSE.
  }];
}

def Bism_StopGradientOp : Bism_Op<"stop_gradient", [Pure, SameOperandsAndResultType]> {
  let summary = "identity whose derivative is zero";
  let description = [{
    No folder: it must survive until `--bism-autodiff` has run; the lowering
    replaces it by its operand.
  }];
  let arguments = (ins AnyStaticShapeTensor:$operand);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat = "$operand attr-dict `:` type($result)";
}

def Bism_OptimizationBarrierOp : Bism_Op<"optimization_barrier",
    [MemoryEffects<[MemRead, MemWrite]>, AllTypesMatch<["operands", "results"]>]> {
  let summary = "identity that keeps recomputed code apart from the original";
  let description = [{
    Returns its operands. Checkpointed differentiation (`bism.checkpoint` on
    an unrolled scf.for) recomputes a loop segment in the reverse sweep from
    barrier'd inputs: were the recomputation identical to the forward code,
    CSE would merge the two and the forward values would stay live until
    the reverse sweep, which is the memory checkpointing exists to save. The
    declared memory effects keep CSE and canonicalisation off it (like
    StableHLO's optimization_barrier); `--bism-drop-optimization-barriers`
    removes it before bufferization, after the last CSE on tensors. Its
    derivative is the identity.
  }];
  let arguments = (ins Variadic<AnyRankedTensor>:$operands);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = "$operands attr-dict `:` type($operands)";
}

#endif // BISM_AUTODIFF_OPS_TD
