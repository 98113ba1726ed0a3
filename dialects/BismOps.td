//===- BismOps.td - bism model-level ops -------------------*- tablegen -*-===//
#ifndef BISM_OPS_TD
#define BISM_OPS_TD

include "BismDialect.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

//===----------------------------------------------------------------------===//
// Constants and conversions
//===----------------------------------------------------------------------===//

def Bism_ConstantOp : Bism_Op<"constant", [ConstantLike, Pure,
    AllTypesMatch<["value", "result"]>]> {
  let summary = "tensor constant";
  let description = [{
    ```mlir
    %c = bism.constant dense<[1.0, 2.0]> : tensor<2xf32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
  let hasVerifier = 1;
}

def Bism_ConvertOp : Bism_Op<"convert", [Pure]> {
  let summary = "element type conversion between f32 and f64";
  let arguments = (ins Bism_Tensor:$operand);
  let results = (outs Bism_Tensor:$result);
  let assemblyFormat = "$operand attr-dict `:` type($operand) `to` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

class Bism_UnaryOp<string mnemonic, string doc, list<Trait> traits = []>
    : Bism_Op<mnemonic, !listconcat(traits, [Pure, SameOperandsAndResultType])> {
  let summary = doc;
  let arguments = (ins Bism_Tensor:$operand);
  let results = (outs Bism_Tensor:$result);
  let assemblyFormat = "$operand attr-dict `:` type($result)";
}

def Bism_NegOp      : Bism_UnaryOp<"neg", "elementwise -x"> { let hasFolder = 1; }
def Bism_ExpOp      : Bism_UnaryOp<"exp", "elementwise exp(x)">;
def Bism_LogOp      : Bism_UnaryOp<"log", "elementwise natural logarithm">;
def Bism_Log1pOp    : Bism_UnaryOp<"log1p", "elementwise log(1 + x), accurate near 0">;
def Bism_SqrtOp     : Bism_UnaryOp<"sqrt", "elementwise square root">;
def Bism_SquareOp   : Bism_UnaryOp<"square", "elementwise x * x">;
def Bism_AbsOp      : Bism_UnaryOp<"abs", "elementwise |x|">;
def Bism_ReciprocalOp : Bism_UnaryOp<"reciprocal", "elementwise 1 / x">;
def Bism_TanhOp     : Bism_UnaryOp<"tanh", "elementwise hyperbolic tangent">;
def Bism_SigmoidOp  : Bism_UnaryOp<"sigmoid", "elementwise 1 / (1 + exp(-x))">;
def Bism_SoftplusOp : Bism_UnaryOp<"softplus",
    "elementwise log(1 + exp(x)), computed as max(x, 0) + log1p(exp(-|x|))">;
def Bism_ReluOp     : Bism_UnaryOp<"relu", "elementwise max(x, 0)">;

def Bism_EluOp : Bism_UnaryOp<"elu", "elementwise x > 0 ? x : alpha * (exp(x) - 1)"> {
  let arguments = (ins Bism_Tensor:$operand, DefaultValuedAttr<F64Attr, "1.0">:$alpha);
}
def Bism_LeakyReluOp : Bism_UnaryOp<"leaky_relu",
    "elementwise x > 0 ? x : alpha * x"> {
  let arguments = (ins Bism_Tensor:$operand, DefaultValuedAttr<F64Attr, "0.01">:$alpha);
}

class Bism_BinaryOp<string mnemonic, string doc, list<Trait> traits = []>
    : Bism_Op<mnemonic, !listconcat(traits, [Pure, SameOperandsAndResultType])> {
  let summary = doc;
  let description = [{
    Both operands have the type of the result; use `bism.broadcast` first to
    combine tensors of different shapes.
  }];
  let arguments = (ins Bism_Tensor:$lhs, Bism_Tensor:$rhs);
  let results = (outs Bism_Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def Bism_AddOp : Bism_BinaryOp<"add", "elementwise lhs + rhs", [Commutative]> {
  let hasFolder = 1;
}
def Bism_SubOp : Bism_BinaryOp<"sub", "elementwise lhs - rhs"> { let hasFolder = 1; }
def Bism_MulOp : Bism_BinaryOp<"mul", "elementwise lhs * rhs", [Commutative]> {
  let hasFolder = 1;
}
def Bism_DivOp : Bism_BinaryOp<"div", "elementwise lhs / rhs"> { let hasFolder = 1; }
def Bism_PowOp : Bism_BinaryOp<"pow", "elementwise lhs ^ rhs (powf)">;
def Bism_MaximumOp : Bism_BinaryOp<"maximum", "elementwise max(lhs, rhs)", [Commutative]>;
def Bism_MinimumOp : Bism_BinaryOp<"minimum", "elementwise min(lhs, rhs)", [Commutative]>;

def Bism_CompareOp : Bism_Op<"compare", [Pure, AllTypesMatch<["lhs", "rhs"]>,
    TypesMatchWith<"result is an i1 tensor of the operands' shape", "lhs", "result",
        "::llvm::cast<::mlir::RankedTensorType>($_self).clone("
        "::mlir::IntegerType::get($_self.getContext(), 1))">]> {
  let summary = "elementwise ordered comparison, i1 result";
  let description = [{
    ```mlir
    %m = bism.compare lt, %a, %b : tensor<4xf32>   // tensor<4xi1>
    ```
  }];
  let arguments = (ins Bism_ComparePredicate:$predicate,
                       Bism_Tensor:$lhs, Bism_Tensor:$rhs);
  let results = (outs Bism_BoolTensor:$result);
  let assemblyFormat = "$predicate `,` $lhs `,` $rhs attr-dict `:` type($lhs)";
}

def Bism_SelectOp : Bism_Op<"select", [Pure,
    AllTypesMatch<["true_value", "false_value", "result"]>,
    TypesMatchWith<"condition is an i1 tensor of the result's shape", "result",
        "condition", "::llvm::cast<::mlir::RankedTensorType>($_self).clone("
        "::mlir::IntegerType::get($_self.getContext(), 1))">]> {
  let summary = "elementwise condition ? true_value : false_value";
  let arguments = (ins Bism_BoolTensor:$condition, Bism_Tensor:$true_value,
                       Bism_Tensor:$false_value);
  let results = (outs Bism_Tensor:$result);
  let assemblyFormat =
      "$condition `,` $true_value `,` $false_value attr-dict `:` type($result)";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Linear algebra, convolution, pooling
//===----------------------------------------------------------------------===//

def Bism_MatmulOp : Bism_Op<"matmul", [Pure]> {
  let summary = "matrix product with optional batch dimensions";
  let description = [{
    `[B..., M, K] x [B..., K, N] -> [B..., M, N]`; the batch dimensions must be
    equal in both operands (rank 2 and rank 3+ alike). `transpose_lhs` /
    `transpose_rhs` swap the two minor dimensions of an operand before the
    product, so a derivative needs no materialised transpose.

    ```mlir
    %c = bism.matmul %a, %b : tensor<100x560xf32>, tensor<560x400xf32> -> tensor<100x400xf32>
    ```
  }];
  let arguments = (ins Bism_Tensor:$lhs, Bism_Tensor:$rhs,
                       UnitAttr:$transpose_lhs, UnitAttr:$transpose_rhs);
  let results = (outs Bism_Tensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Bism_Conv2DOp : Bism_Op<"conv2d", [Pure]> {
  let summary = "2-D convolution (cross-correlation), NCHW input, OIHW filter";
  let description = [{
    `input: [N, C, H, W]`, `filter: [O, C / groups, KH, KW]`,
    `result: [N, O, OH, OW]` with
    `OH = (H + pad_top + pad_bottom - dilation_h * (KH - 1) - 1) / stride_h + 1`.
    `padding` is `[top, left, bottom, right]` (zeros).
  }];
  let arguments = (ins Bism_Tensor:$input, Bism_Tensor:$filter,
      DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
      DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$padding,
      DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations,
      DefaultValuedAttr<I64Attr, "1">:$groups);
  let results = (outs Bism_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $filter attr-dict `:` type($input) `,` type($filter) `->` type($result)
  }];
  let hasVerifier = 1;
}

class Bism_Pool2DOp<string mnemonic, string doc> : Bism_Op<mnemonic, [Pure]> {
  let summary = doc;
  let description = [{
    NCHW windows of `kernel_shape` moved by `strides`; `padding` is
    `[top, left, bottom, right]`. Result `[N, C, OH, OW]` with
    `OH = (H + pad_top + pad_bottom - KH) / stride_h + 1`.
  }];
  let results = (outs Bism_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Bism_MaxPool2DOp : Bism_Pool2DOp<"max_pool2d",
    "2-D max pooling (padding never wins)"> {
  let arguments = (ins Bism_Tensor:$input, DenseI64ArrayAttr:$kernel_shape,
      DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
      DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$padding);
}
def Bism_AvgPool2DOp : Bism_Pool2DOp<"avg_pool2d",
    "2-D average pooling; padding counted only with count_include_pad"> {
  let arguments = (ins Bism_Tensor:$input, DenseI64ArrayAttr:$kernel_shape,
      DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
      DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$padding,
      UnitAttr:$count_include_pad);
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

class Bism_ReduceOp<string mnemonic, string doc> : Bism_Op<mnemonic, [Pure]> {
  let summary = doc;
  let description = [{
    Reduces the listed `axes` (distinct, in range, at least one, none of size
    0). Without `keep_dims` the reduced axes are dropped; with it they stay
    with size 1.

    ```mlir
    %s = bism.reduce_sum %x axes [1] : tensor<8x4xf32> -> tensor<8xf32>
    %m = bism.reduce_max %x axes [0, 1] keep_dims : tensor<8x4xf32> -> tensor<1x1xf32>
    ```
  }];
  let arguments = (ins Bism_Tensor:$operand, DenseI64ArrayAttr:$axes,
                       UnitAttr:$keep_dims);
  let results = (outs Bism_Tensor:$result);
  let assemblyFormat = [{
    $operand `axes` $axes (`keep_dims` $keep_dims^)? attr-dict `:`
    type($operand) `->` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The result type this reduction must have.
    static ::mlir::RankedTensorType inferResultType(::mlir::RankedTensorType input,
        ::llvm::ArrayRef<int64_t> axes, bool keepDims);
  }];
}

def Bism_ReduceSumOp : Bism_ReduceOp<"reduce_sum", "sum over axes">;
def Bism_ReduceMeanOp : Bism_ReduceOp<"reduce_mean", "mean over axes">;
def Bism_ReduceMaxOp : Bism_ReduceOp<"reduce_max", "maximum over axes">;
def Bism_ReduceLogSumExpOp : Bism_ReduceOp<"reduce_logsumexp",
    "log(sum(exp(x))) over axes, computed stably around the maximum">;

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

def Bism_BroadcastOp : Bism_Op<"broadcast", [Pure]> {
  let summary = "numpy-style broadcast to a larger shape";
  let description = [{
    Dimensions are aligned from the right; each operand dimension is 1 or
    equal to the result's. Leading result dimensions are new.

    ```mlir
    %b = bism.broadcast %bias : tensor<4xf32> to tensor<8x4xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$operand);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$operand attr-dict `:` type($operand) `to` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Bism_ReshapeOp : Bism_Op<"reshape", [Pure]> {
  let summary = "row-major reshape to a shape with the same element count";
  let arguments = (ins AnyRankedTensor:$operand);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$operand attr-dict `:` type($operand) `to` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Bism_TransposeOp : Bism_Op<"transpose", [Pure]> {
  let summary = "permute dimensions: result dim i is operand dim permutation[i]";
  let arguments = (ins AnyRankedTensor:$operand, DenseI64ArrayAttr:$permutation);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat =
      "$operand $permutation attr-dict `:` type($operand) `to` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Bism_SliceOp : Bism_Op<"slice", [Pure]> {
  let summary = "strided slice [start, limit) with positive strides";
  let description = [{
    ```mlir
    %s = bism.slice %x starts [0, 1] limits [4, 3] strides [1, 1]
        : tensor<4x4xf32> to tensor<4x2xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$operand, DenseI64ArrayAttr:$starts,
                       DenseI64ArrayAttr:$limits, DenseI64ArrayAttr:$strides);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $operand `starts` $starts `limits` $limits `strides` $strides attr-dict `:`
    type($operand) `to` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Bism_ConcatOp : Bism_Op<"concat", [Pure]> {
  let summary = "concatenate along one axis";
  let arguments = (ins Variadic<AnyRankedTensor>:$inputs, I64Attr:$axis);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat =
      "$inputs `axis` $axis attr-dict `:` type($inputs) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Bism_PadOp : Bism_Op<"pad", [Pure]> {
  let summary = "zero padding before, after and between elements";
  let description = [{
    Per dimension, `low` zeros before, `high` zeros after and `interior`
    zeros between neighbouring elements (all >= 0): result size is
    `low + size + (size - 1) * interior + high`. The derivative of a strided
    `bism.slice` is a `bism.pad`, and vice versa.

    ```mlir
    %p = bism.pad %x low [0, 1] high [0, 1] interior [0, 1]
        : tensor<2x3xf32> to tensor<2x7xf32>
    ```
  }];
  let arguments = (ins Bism_Tensor:$operand, DenseI64ArrayAttr:$low,
                       DenseI64ArrayAttr:$high, DenseI64ArrayAttr:$interior);
  let results = (outs Bism_Tensor:$result);
  let assemblyFormat = [{
    $operand `low` $low `high` $high `interior` $interior attr-dict `:`
    type($operand) `to` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Bism_ReverseOp : Bism_Op<"reverse", [Pure, SameOperandsAndResultType]> {
  let summary = "reverse the order of elements along the listed dimensions";
  let description = [{
    ```mlir
    %f = bism.reverse %w dims [2, 3] : tensor<8x3x5x5xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$operand, DenseI64ArrayAttr:$dims);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$operand `dims` $dims attr-dict `:` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Random draws (counter-based Philox-4x32-10, see runtime/include/bism/runtime/Philox.h)
//===----------------------------------------------------------------------===//

class Bism_RandomOp<string mnemonic, string doc> : Bism_Op<mnemonic, [Pure]> {
  let summary = doc;
  let description = [{
    Element `i` (row-major) is a pure function of the key and `i`. The draw
    reads the words of Philox-4x32-10 with key `(key[0], key[1])` and
    counters `(c mod 2^32, c div 2^32, 0, 0)`, c = 0, 1, 2, ..., in order,
    each element taking the words it needs: 1 (f32 uniform and Gumbel,
    Rademacher), 2 (f32 normal, f64 uniform and Gumbel) or 4 (f64 normal);
    element `i` of a one-word draw is word `i mod 4` of counter `i div 4`.
    The same key gives the same tensor on every run and every backend.

    With `offset = o` (default 0), element `i` of the result is element
    `o + i` of that stream: a data-parallel rank draws its rows of the
    global batch's noise, the same numbers whatever the number of ranks.
  }];
  let arguments = (ins Bism_KeyType:$key,
                       DefaultValuedAttr<I64Attr, "0">:$offset);
  let results = (outs Bism_Tensor:$result);
  let assemblyFormat = "$key attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Bism_RandomUniformOp : Bism_RandomOp<"random_uniform",
    "uniform draws in [0, 1): top bits of word 0 scaled by 2^-24 (f32) or words 0,1 by 2^-53 (f64)">;
def Bism_RandomNormalOp : Bism_RandomOp<"random_normal",
    "standard normal draws (Box-Muller on words 0 and 1)">;
def Bism_RandomGumbelOp : Bism_RandomOp<"random_gumbel",
    "standard Gumbel draws -log(-log(u)), u uniform in (0, 1)">;
def Bism_RandomRademacherOp : Bism_RandomOp<"random_rademacher",
    "draws of -1 or +1 with equal probability (lowest bit of word 0)">;

//===----------------------------------------------------------------------===//
// Data parallelism
//===----------------------------------------------------------------------===//

def Bism_AllReduceMeanOp : Bism_Op<"all_reduce_mean",
    [Pure, SameOperandsAndResultType]> {
  let summary = "mean of a tensor over the ranks of a data-parallel run";
  let description = [{
    Every rank passes its value; every rank gets the elementwise mean over
    all ranks (the identity in a run of one process). The training step
    puts one after each batch-mean gradient and metric when it is built for
    several ranks, so that every rank's optimiser sees the global batch's
    gradient and all ranks keep the same state (docs/training.md, "Data
    parallel"). Its derivative is itself: a rank's cotangent of the mean is
    the mean of the ranks' cotangents, which is how the gradient of the
    ranks' summed losses reaches each rank's inputs. It lowers to a call of
    the runtime's `bism_rt_all_reduce_mean_*` (MPI_Allreduce under mpirun).
    Every rank runs the same program, so every rank makes the same calls in
    the same order, as a collective requires.

    ```mlir
    %g = bism.all_reduce_mean %grad : tensor<4x3xf32>
    ```
  }];
  let arguments = (ins Bism_Tensor:$input);
  let results = (outs Bism_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def Bism_KeySplitOp : Bism_Op<"key_split", [Pure]> {
  let summary = "derive an independent key from a key and a stream index";
  let description = [{
    The new key is words 0 and 1 of Philox-4x32-10 with the given key and
    counter `(index mod 2^32, index div 2^32, 0, 0x6b657973)`; the last word
    keeps derived keys apart from the counters the draw ops use.

    ```mlir
    %k1 = bism.key_split %key [1]
    ```
  }];
  let arguments = (ins Bism_KeyType:$key, I64Attr:$index);
  let results = (outs Bism_KeyType:$result);
  let assemblyFormat = "$key `[` $index `]` attr-dict";
}

include "BismAutodiffOps.td"
include "BismModelOps.td"

#endif // BISM_OPS_TD
