//===- Passes.h - bism lowering passes and pipelines ------------*- C++ -*-===//
#ifndef BISM_LOWERING_PASSES_H
#define BISM_LOWERING_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace bism {

/// On a math op: computed by libm, never approximated (the random draws,
/// which must match the runtime's Philox reference bit for bit).
inline constexpr llvm::StringLiteral kExactMathAttr = "bism.exact_math";

#define GEN_PASS_DECL
#include "bism/Lowering/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "bism/Lowering/Passes.h.inc"

/// Options of the CPU pipeline (`--bism-lower-cpu`).
struct CpuPipelineOptions : mlir::PassPipelineOptions<CpuPipelineOptions> {
  Option<int64_t> blasMinFlops{
      *this, "blas-min-flops",
      llvm::cl::desc("smallest M*N*K sent to BLAS; 0 sends every matmul, "
                     "-1 none"),
      llvm::cl::init(32768)};
  Option<bool> formKernels{
      *this, "form-kernels",
      llvm::cl::desc("fuse the step into kernels (--bism-form-kernels)"),
      llvm::cl::init(true)};
  Option<bool> approximateMath{
      *this, "approximate-math",
      llvm::cl::desc("f32 transcendentals as vectorisable polynomials "
                     "(--bism-approximate-math)"),
      llvm::cl::init(true)};
  Option<bool> planBuffers{
      *this, "plan-buffers",
      llvm::cl::desc("place each function's temporaries in one arena "
                     "planned at compile time (--bism-plan-buffers)"),
      llvm::cl::init(true)};
  Option<int64_t> parallelMinPoints{
      *this, "parallel-min-points",
      llvm::cl::desc("smallest kernel iteration space run on the thread pool "
                     "(--bism-parallelize-kernels); -1 keeps every kernel "
                     "serial"),
      llvm::cl::init(16384)};
};

struct CudaPipelineOptions : mlir::PassPipelineOptions<CudaPipelineOptions> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("the GPU architecture (sm_80, sm_90)"),
                           llvm::cl::init("sm_90")};
  Option<std::string> features{
      *this, "features", llvm::cl::desc("PTX ISA version, e.g. +ptx80"),
      llvm::cl::init("+ptx80")};
  Option<std::string> format{
      *this, "format",
      llvm::cl::desc("what the GPU modules become: isa (PTX text), bin "
                     "(cubin, through the toolkit's ptxas) or fatbin"),
      llvm::cl::init("isa")};
  Option<std::string> toolkit{
      *this, "toolkit", llvm::cl::desc("the CUDA toolkit (ptxas, libdevice)"),
      llvm::cl::init("/usr/local/cuda")};
  Option<int64_t> blockSize{*this, "block-size",
                            llvm::cl::desc("threads per block"),
                            llvm::cl::init(256)};
};

/// bism-plan-buffers defines, for each public function it plans, a public
/// i64 constant `<function><kArenaBytesSuffix>`: the bytes of the arena
/// that holds the function's temporaries during a call.
inline constexpr llvm::StringLiteral kArenaBytesSuffix = ".arena_bytes";

/// The shared front of both back ends (`--bism-to-kernels`): bism-autodiff,
/// inlining, canonicalize + cse, bism-lower-to-linalg and, with
/// `formKernels`, bism-form-kernels.
void buildKernelPipeline(mlir::OpPassManager &pm, bool formKernels);

/// What both back ends do after the kernel stage to reach buffers: entry
/// points marked, one-shot bufferisation (function boundaries included),
/// results as caller-owned out-parameters.
void buildBufferizationPipeline(mlir::OpPassManager &pm);

/// bism (tensors) -> LLVM dialect, for JitModule: the kernel pipeline,
/// one-shot bufferisation with out-parameters for results, BLAS calls for
/// large matmuls, kernels outlined, f32 math as polynomials, loops, LLVM.
void buildLowerToCpuPipeline(mlir::OpPassManager &pm,
                             const CpuPipelineOptions &options);

/// The CUDA lowering (`--bism-lower-cuda`): the kernel stage, bufferisation,
/// matmuls as cuBLAS calls, every other kernel a GPU kernel (NVVM, then PTX
/// or cubin in a gpu.binary), host code calling the MLIR GPU runtime ABI
/// (mgpu*) that runtime/ provides.
void buildLowerToCudaPipeline(mlir::OpPassManager &pm,
                              const CudaPipelineOptions &options);

/// Registers every bism pass and the `bism-lower-cpu` pipeline.
void registerBismPassesAndPipelines();

} // namespace bism

#endif // BISM_LOWERING_PASSES_H
