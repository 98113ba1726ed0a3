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
    "::mlir::affine::AffineDialect", "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect"];
}

def BismMatmulToBlas : Pass<"bism-matmul-to-blas", "::mlir::ModuleOp"> {
  let summary = "Replace large buffer-level matmuls by calls to the runtime's BLAS";
  let description = [{
    After bufferisation, every linalg.matmul / linalg.batch_matmul on f32 or
    f64 memrefs with M*N*K >= `min-flops` becomes a call to
    `bism_rt_gemm_f32` / `bism_rt_gemm_f64` (runtime/src/Blas.cpp), which
    calls OpenBLAS; with `library=cublas`, to `bism_rt_cublas_gemm_*`
    (the CUDA executor's cuBLAS calls on device buffers). Smaller products
    stay loops.
  }];
  let options = [
    Option<"minFlops", "min-flops", "int64_t", /*default=*/"32768",
           "smallest M*N*K (times batch) that is sent to BLAS">,
    Option<"library", "library", "std::string", /*default=*/"\"blas\"",
           "blas (OpenBLAS on the host) or cublas (the CUDA executor)">
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

def BismSplitEmptyTensors : Pass<"bism-split-empty-tensors", "::mlir::ModuleOp"> {
  let summary = "Give every destination its own tensor.empty before bufferization";
  let description = [{
    CSE merges equal `tensor.empty` ops, so one empty tensor (and its
    reshapes) ends up as the destination of every kernel of its shape. One-
    shot bufferization then puts all those writes in one alias set and
    checks each against the others: quadratic or worse in the number of
    kernels (a chain of 1,000 matmuls took 76 s). This pass clones the empty
    tensor, and the reshapes between it and the use, next to each extra use.
    Memory does not grow: each destination was a new buffer anyway, and
    bism-plan-buffers packs the buffers after bufferization.
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

def BismDropOptimizationBarriers
    : Pass<"bism-drop-optimization-barriers", "::mlir::ModuleOp"> {
  let summary = "Replace bism.optimization_barrier by its operands";
  let description = [{
    The barriers keep checkpointed recomputation apart from the forward code
    through every CSE on tensors; after the last one (the start of
    bufferization) they have done their work and cost nothing: each result
    becomes its operand.
  }];
}

def BismLowerCollectives
    : Pass<"bism-lower-collectives", "::mlir::ModuleOp"> {
  let summary = "Lower bism.all_reduce_mean to calls of the runtime";
  let description = [{
    Each `bism.all_reduce_mean` on a tensor becomes, still on tensors for
    one-shot bufferization:

      buffer of the (flattened) input, read-only
      a new buffer of the same size
      func.call @bism_rt_all_reduce_mean_<f32|f64>(input, output)
      the output as a tensor (restrict), reshaped back

    The runtime (runtime/include/bism/runtime/Collective.h) averages over
    the ranks of the process group it was given (MPI under mpirun; itself
    alone otherwise). The op stays out of kernels, so the pipelines run
    this just before bufferization. With `library=nccl` (the CUDA pipeline)
    the callee is @bism_rt_nccl_all_reduce_mean_<f32|f64>, which averages
    device buffers with NCCL (CudaExecutor.h).
  }];
  let options = [
    Option<"library", "library", "std::string", /*default=*/"\"mpi\"",
           "who averages: mpi (host buffers, the CPU pipeline) or nccl "
           "(device buffers, the CUDA pipeline)">
  ];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::tensor::TensorDialect"];
}

def BismRematerializeDraws
    : Pass<"bism-rematerialize-draws", "::mlir::ModuleOp"> {
  let summary = "Recompute kernels that read no tensor next to each use";
  let description = [{
    A random draw (a kernel with no tensor inputs: Philox from the key and
    the element's index) is cheaper to draw again than to keep: the step
    draws all its noise at its start, and a draw used by the N unrolled
    steps' forward pass and again by a checkpointed reverse sweep would
    otherwise be held from the start to its last use. Each use (outside
    the draw's own reshapes) gets its own copy of the draw, and of the
    reshapes and empty destinations between, just before it; the original
    is erased. Runs after the last CSE on tensors, which would merge the
    copies again.
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect",
                           "::mlir::linalg::LinalgDialect"];
}

def BismSpecializeBatch : Pass<"bism-specialize-batch", "::mlir::ModuleOp"> {
  let summary = "Set the `?` (batch) dimension of every type to the batch size";
  let description = [{
    A model file writes its batch dimension as `?` (`tensor<?x2xf32>`) and
    states the size once, in the spec's `batch_size`. This pass replaces
    every `?` dimension in function types, block arguments and op results by
    that size (or by `batch-size` when given), and sets the limit of a
    `bism.slice` along it (a slice keeps the batch dimension whole). Passes
    that transform bism IR refuse `?` dimensions; `--bism-build-train-step`
    and bism-run run this first (bism-run after the `--set` overrides, so
    `--set batch_size=N` chooses the batch). Constants cannot have a `?`
    dimension: broadcast a rank-0 constant instead.
  }];
  let options = [
    Option<"batchSize", "batch-size", "int64_t", /*default=*/"0",
           "the batch size (0: the bism.model spec's batch_size)">
  ];
}

def BismResolveONNX : Pass<"bism-resolve-onnx", "::mlir::ModuleOp"> {
  let summary = "Import the ONNX files that model files name for their functions";
  let description = [{
    Replaces each `func.func` declaration carrying `bism.onnx_file = "PATH"`
    (relative to the module's file) by the function imported from that ONNX
    file (`bism::train::resolveONNXReferences`). The declared signature fixes
    the graph inputs' symbolic dimensions and is checked against the graph.
    For each `bism.model` clause naming the function with an empty parameter
    list, one `bism.param` per trainable initializer is added to the model
    (group theta, or phi for the posterior; `init = "value"` with the
    initializer's value) and listed in the clause; a non-empty list binds
    the initializers in order to the parameters it names. Non-trainable
    initializers (BatchNormalization statistics) become constants.
    Declarations must have static types (`--bism-specialize-batch` first).
    `--bism-build-train-step` runs this first. docs/onnx.md has the rules.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

def BismBuildTrainStep : Pass<"bism-build-train-step", "::mlir::ModuleOp"> {
  let summary = "Build the BiSM training step of every bism.model";
  let description = [{
    The `?` batch dimension is set to the spec's batch_size and functions
    declared with `bism.onnx_file` are imported first (as by
    `--bism-specialize-batch` and `--bism-resolve-onnx`). For each `bism.model` (verified by
    `bism::train::readModel`) emits, in
    the bism dialect with AD ops (`bism.grad`, `bism.hvp`,
    `bism.stop_gradient`), Algorithm 1 of BiSM (docs/training.md has the
    exact formulas):

    - `@draw_noise(key) -> (noise...)`: every random draw of one step, from
      `bism.key_split` (static indices) and `bism.random_*` only.
    - `@train_step_with_noise(state..., v, noise...)`: K plain optimiser
      steps of φ on the lower-level loss G (KL or Fisher), then the θ
      gradient of J_Bi(θ, φᴺ(θ)) through N differentiable (unrolled)
      optimiser steps of φ, then the optimiser step of θ. The state is θ
      params, φ params, Adam first/second moments of θ, of φ, `t_theta`,
      `t_phi`; the results are the new state in that order followed by the
      metrics J, G before and after the K steps and ‖∇θ J‖.
    - `@train_step(state..., v, key)`: `@draw_noise` then
      `@train_step_with_noise`.

    Private helpers are named `@<model>__<what>` (`__sample_posterior`,
    `__log_q`, `__energy_sum`, `__neg_log_joint`, `__score`, `__upper`,
    `__lower`, `__phi_step`, `__j_bi`; signatures in
    include/bism/Train/BuildTrainStep.h). With one model in the module the public functions have the
    names above; with several they are `@<model>__train_step` etc. K and N
    are unrolled in straight-line IR; `--bism-autodiff` then turns the AD
    ops into plain derivative code. Spec methods "vages", "marginal", "cd"
    and "pcd" emit the same public functions for VaGES (particles looped
    over with scf.for) and the baselines (docs/training.md). The model ops are erased afterwards
    unless `keep-model` is set (the lowering does not accept them).
    With `evaluation` set it also emits bism-run's evaluation functions
    (`@eval_score`, `@eval_ssm`, `@eval_posterior_fisher`,
    `@eval_energy_gradient`; helpers `@<model>__eval__<what>`; see
    `buildEvaluationFunctions` in include/bism/Train/BuildTrainStep.h).
  }];
  let options = [
    Option<"keepModel", "keep-model", "bool", /*default=*/"false",
           "keep the bism.model ops after building the step">,
    Option<"evaluation", "evaluation", "bool", /*default=*/"false",
           "also build the evaluation functions (SSM score, posterior "
           "Fisher divergence, scores for Langevin sampling)">,
    Option<"ranks", "ranks", "int64_t", /*default=*/"1",
           "build the step of one rank of a data-parallel run of this many "
           "ranks (the spec's batch_size is then the rank's share; "
           "bism-run divides the global one)">,
    Option<"rank", "rank", "int64_t", /*default=*/"0",
           "which rank's step (0 … ranks − 1)">
  ];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

def BismFormKernels : Pass<"bism-form-kernels", "::mlir::ModuleOp"> {
  let summary = "Group the linalg-on-tensors step into named kernels";
  let description = [{
    The kernel stage that both back ends consume (DESIGN.md §3, level 4½).
    On the output of `--bism-lower-to-linalg`:

    - reductions and transposes become `linalg.generic`, so that the
      elementwise code around them can join them;
    - elementwise and broadcasting producers read by a single consumer are
      fused into it (linalg's elementwise fusion); into a broadcasting read
      only cheap producers without transcendentals are fused (they are
      recomputed per read); broadcasts and copies read by several ops are
      copied per reader first;
    - `add(matmul(a, b), x)` becomes a matmul accumulating into `x` (the
      bias epilogue: BLAS computes out += a·b), and matmuls that share an
      operand and accumulate into each other become one matmul of the
      summed other operands;
    - then producers that other kernels read too are fused into a
      consumer over the same iteration space (identity maps: nothing is
      recomputed), the fused kernel also writing the producer's results
      for the later readers: Adam's moment updates and the parameter
      update become one pass over the state;
    - a value a kernel stores only for later kernels over the same
      iteration space, when a few arithmetic ops (square roots included)
      make it from that kernel's inputs, is made again by its readers when
      none of them reads more than one tensor more for it (the stored
      intermediates of each unrolled Adam step, which the reverse sweep
      reads);
    - an all-parallel kernel that reads and writes whole tensors in loop
      order becomes one flat loop between collapses and expands of its
      operands (views), so that it vectorises across rows and maps to a
      flat GPU grid; a kernel whose body uses its loop indices apart (a
      draw computing one Philox counter per 4 elements) keeps its nest;
    - the op folding each element into a reduction's accumulator gets
      `fastmath<reassoc>`: a kernel's reduction may be summed in any
      (fixed) order, so the CPU back end vectorises it and a GPU back end
      can reduce as a tree;
    - every remaining linalg op is a kernel and gets a name,
      `bism.kernel = "<function>.k<n>"`, and a kind,
      `bism.kernel_kind = "elementwise" | "reduction" | "matmul" |
      "copy" | "fill"`; a `linalg.fill` that only initialises one kernel's
      accumulator belongs to that kernel.

    With `stats`, a remark per function gives the count of kernels of each
    kind and the matmul FLOPs.
  }];
  let options = [
    Option<"stats", "stats", "bool", /*default=*/"false",
           "emit a remark per function with the kernel counts and matmul FLOPs">
  ];
  let dependentDialects = ["::mlir::affine::AffineDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

def BismApproximateMath : Pass<"bism-approximate-math", "::mlir::ModuleOp"> {
  let summary = "f32 transcendentals as polynomial code the vectoriser can use";
  let description = [{
    Rewrites f32 (scalar or vector) `math.exp`, `log`, `log1p`, `expm1`,
    `tanh`, `sin`, `cos`, `erf` into arithmetic (MLIR's polynomial
    approximations, from Cephes/Eigen), so that loops calling them
    vectorise instead of calling scalar libm; f64 keeps libm, and so do ops
    marked `bism.exact_math` (the random draws, which must equal the
    runtime's Philox reference bit for bit). The error of each against libm
    is measured in test/unit/MathApproximationTest.cpp.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

def BismOutlineKernels : Pass<"bism-outline-kernels", "::mlir::ModuleOp"> {
  let summary = "Move each kernel of a bufferised step into a function of its own";
  let description = [{
    After bufferisation (and after `--bism-matmul-to-blas`), the ops of each
    kernel named by `--bism-form-kernels` (same `bism.kernel` name) move into
    a private function `@<kernel name>` taking the buffers and scalars they
    use; the step calls it. Structurally identical kernels (the K plain
    steps repeat theirs) share one function, so code generation is
    proportional to the distinct kernels, and every kernel is a unit the
    back ends compile on its own: the CPU back end threads and vectorises
    it, the CUDA back end makes it a GPU kernel. Kernel functions carry
    `bism.kernel_kind` and are kept out of line (`noinline`); a buffer that
    no other argument of the call shares is marked for `noalias` (the
    `bism.noalias_args` argument indices).
  }];
  let dependentDialects = ["::mlir::func::FuncDialect", "::mlir::memref::MemRefDialect"];
}

def BismParallelizeKernels : Pass<"bism-parallelize-kernels", "::mlir::ModuleOp"> {
  let summary = "Spread the outermost parallel loop of each large kernel over threads";
  let description = [{
    After `--bism-outline-kernels`, each linalg op of a kernel function
    (`bism.kernel_kind`) whose first loop is parallel and whose iteration
    space has at least `min-points` points is tiled along that loop into an
    `scf.parallel` of whole rows, at least a 64th of the points per tile
    (a flat kernel in chunks of a multiple of 64 elements, one with long
    rows row by row), which `convert-scf-to-openmp` gives to the OpenMP
    pool the runtime's BLAS calls share. Each iteration computes
    whole rows, reductions included, so the results do not depend on the
    thread count. Ops whose first loop is a reduction, and small ops (where
    waking the pool costs more than it saves), stay serial.
  }];
  let options = [
    Option<"minPoints", "min-points", "int64_t", /*default=*/"16384",
           "smallest iteration space (product of loop sizes) made parallel">
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect", "::mlir::memref::MemRefDialect",
                           "::mlir::linalg::LinalgDialect"];
}

def BismParallelToOpenMP : Pass<"bism-parallel-to-openmp", "::mlir::ModuleOp"> {
  let summary = "Run the kernels' scf.parallel loops on the OpenMP pool";
  let description = [{
    Each one-dimensional `scf.parallel` without reductions (what
    `--bism-parallelize-kernels` makes) becomes an `omp.parallel` region in
    which every thread runs an `scf.for` over its own contiguous block of
    the iterations (the static schedule: thread t of n takes iterations
    [t p, (t + 1) p), p = ceil(iterations / n)). Unlike MLIR's
    `convert-scf-to-openmp` there is no worksharing loop: no
    `__kmpc_for_static_init` call (which allocates a buffer per thread
    and call in libomp) and no second barrier besides the region's join.
  }];
  let dependentDialects = ["::mlir::omp::OpenMPDialect", "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect", "::mlir::func::FuncDialect"];
}

def BismMapKernelsToGpu : Pass<"bism-map-kernels-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Turn the linalg ops of a bufferised step into GPU loops";
  let description = [{
    For the CUDA back end, after `--bism-outline-kernels` (and the cuBLAS
    calls of `--bism-matmul-to-blas`): every remaining linalg op becomes
    one `scf.parallel` over all its parallel iterations, flattened to one
    dimension and tiled by `block-size` (the tile a block of threads, the
    elements its threads, guarded at the end), mapped to the GPU's block
    and thread x dimensions. A reduction of at least
    `min-block-reduction` terms per output becomes one block per output
    element instead (a `gpu.launch` written directly): its threads stride
    over the reduction's iterations, each folding a partial result from
    the combiner's neutral element, then one `gpu.all_reduce` of the block
    (warp shuffles, then shared memory across warps) and thread 0 folds
    the total into the output. Shorter reductions, and those whose body is
    not one recognised combiner per output, loop inside one thread per
    output element (parallel dimensions moved outermost first). Buffers the host
    code allocates become `gpu.alloc`/`gpu.dealloc`: every buffer of a step
    lives on the device. `convert-parallel-loops-to-gpu` and
    `gpu-kernel-outlining` then make each loop a `gpu.launch_func` of a
    kernel in a `gpu.module`.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "threads per block">,
    Option<"minBlockReduction", "min-block-reduction", "int64_t",
           /*default=*/"32",
           "fewest terms per output of a reduction done by a whole block "
           "(fewer: one thread per output)">
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect", "::mlir::gpu::GPUDialect",
                           "::mlir::affine::AffineDialect",
                           "::mlir::memref::MemRefDialect", "::mlir::arith::ArithDialect"];
}

def BismPlanBuffers : Pass<"bism-plan-buffers", "::mlir::ModuleOp"> {
  let summary = "Place a function's temporary buffers in one arena, planned once";
  let description = [{
    After buffer deallocation, every `memref.alloc` of a static shape in a
    function's body whose `memref.dealloc` is in the same block becomes a
    `memref.view` into one arena per function (an uninitialised
    `memref.global`: .bss, no space in the object, its pages provided by
    the operating system once). Buffers whose lifetimes (from the
    alloc to the dealloc, in program order) overlap get disjoint byte
    ranges, 64-byte aligned, the largest placed first; the deallocs go. A
    training step then allocates nothing after its first call. Past 1 GiB
    of arenas in the module (a deep image model's step plans about 1.4 GB)
    a function's arena is one `memref.alloc` per call instead: JIT-linked
    code reaches its constants with 32-bit offsets, and a .bss that large
    would lie between them. The function is no longer reentrant: the
    runtime calls compiled functions one at a time. For each public
    function planned, a public constant `@<function>.arena_bytes`
    (memref<i64>) holds the arena's size, which the runtime reports as the
    step's memory.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect", "::mlir::arith::ArithDialect"];
}

#endif // BISM_PASSES_TD
