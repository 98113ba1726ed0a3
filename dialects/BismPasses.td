//===- BismPasses.td - bism passes -------------------------*- tablegen -*-===//
#ifndef BISM_PASSES_TD
#define BISM_PASSES_TD

include "mlir/Pass/PassBase.td"

def BismAutodiff : Pass<"bism-autodiff", "::mlir::ModuleOp"> {
  let summary = "Replace bism.grad/vjp/jvp/hvp by explicit derivative code";
  let description = [{
    Source to source. Each AD op is replaced, at its place, by an inlined copy
    of its callee followed by derivative code in the bism dialect, built from
    the ops' DifferentiableOpInterface rules (reverse mode for grad/vjp,
    forward mode for jvp, forward over reverse for hvp). While inlining, the
    callee's own AD ops are expanded first (innermost first), `func.call`s
    are inlined and `scf.for` loops with constant bounds are unrolled, so
    the code being differentiated is straight-line bism. Only values that
    depend on the `wrt` arguments and reach the differentiated results get
    derivative code; `bism.stop_gradient` cuts the dependence.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect", "::mlir::arith::ArithDialect"];
}

def BismLowerToLinalg : Pass<"bism-lower-to-linalg", "::mlir::ModuleOp"> {
  let summary = "Lower every bism op to linalg, tensor, arith and math";
  let description = [{
    Elementwise ops become linalg.generic, matmuls linalg.matmul /
    linalg.batch_matmul (transposes as indexing maps), convolutions an
    im2col gather followed by a (batch) matmul, pooling a windowed
    linalg.generic, random draws Philox-4x32-10 in arith inside linalg.generic.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::tensor::TensorDialect"];
}

def BismMatmulToBlas : Pass<"bism-matmul-to-blas", "::mlir::ModuleOp"> {
  let summary = "Replace large buffer-level matmuls by calls to the runtime's BLAS";
  let description = [{
    After bufferisation, every linalg.matmul / linalg.batch_matmul on f32 or
    f64 memrefs with M*N*K >= `min-flops` becomes a call to
    `bism_rt_gemm_f32` / `bism_rt_gemm_f64` (runtime/src/Blas.cpp), which
    calls OpenBLAS. Smaller products stay loops.
  }];
  let options = [
    Option<"minFlops", "min-flops", "int64_t", /*default=*/"32768",
           "smallest M*N*K (times batch) that is sent to BLAS">
  ];
  let dependentDialects = ["::mlir::func::FuncDialect", "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def BismMarkEntryPoints : Pass<"bism-mark-entry-points", "::mlir::ModuleOp"> {
  let summary = "Give public functions a C interface for the JIT";
  let description = [{
    Sets `llvm.emit_c_interface` on every public func.func with a body so the
    runtime can call `_mlir_ciface_<name>` with memref descriptors.
  }];
}

#endif // BISM_PASSES_TD
