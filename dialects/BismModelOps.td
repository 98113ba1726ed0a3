//===- BismModelOps.td - model declarations ----------------*- tablegen -*-===//
//
// A model file declares its parameters, names its energy and posterior
// functions and carries the training spec; `--bism-build-train-step` turns
// that into the `train_step` function. docs/training.md has the reference.
//
//===----------------------------------------------------------------------===//
#ifndef BISM_MODEL_OPS_TD
#define BISM_MODEL_OPS_TD

include "mlir/IR/SymbolInterfaces.td"
include "mlir/IR/RegionKindInterface.td"

def Bism_ModelOp : Bism_Op<"model", [Symbol, SymbolTable, NoTerminator,
    SingleBlock, IsolatedFromAbove, NoRegionArguments]> {
  let summary = "an energy-based latent variable model and how to train it";
  let description = [{
    ```mlir
    bism.model @grbm energy @energy [@W, @b, @c, @logsigma]
        posterior "bernoulli" @logits [@A, @d] temperature 0.1
        spec {objective = "dsm", noise_std = 0.3, inner_steps = 5, unroll_steps = 5} {
      bism.param @W : tensor<2x4xf32> {group = "theta", init = "normal", std = 0.01}
      ...
    }
    ```
    `@energy(v [B,D], h [B,H], θ...) -> [B]` takes the θ parameters in the
    listed order; the posterior function takes `(v, φ...)` and returns the
    logits (`"bernoulli"`) or `(mu, logstd)` (`"gaussian"`), each [B,H].
    The optional `free_energy @F [θ...]` clause names `F(v [B,D], θ...) ->
    [B]` (a tractable free energy, or the energy of a fully visible model),
    used by spec methods "marginal", "cd" and "pcd". The optional `gibbs @G
    [θ...]` clause names `G(v [B,D], θ..., u_h [B,H], z_v [B,D]) -> v' [B,D]`,
    one Gibbs sweep v -> h -> v' with the model's conditionals given the
    explicit noise (u_h standard uniform, z_v standard normal), used by spec
    methods "cd" and "pcd". The optional `component_log_mass @C [θ...]`
    clause names `C(hs [C,H], θ...) -> [C]`, for each binary latent
    configuration h (a row of hs) log ∫ exp(−E(v, h; θ)) dv, from which the
    runtime computes the exact log Z (logsumexp over all 2^H
    configurations, in chunks of C). The optional `generator @G [φ...]`
    clause names `G(h [B,H], φ...) -> v [B,D]`, a generator from standard
    normal latents, used by spec method "bidvl" (with the free energy as
    the marginal energy and a "gaussian" posterior as the inference model).
    Each clause is optional; method "bism" needs the
    energy and the posterior, method "marginal" the free energy, methods
    "cd" and "pcd" the free energy and the Gibbs sweep.
    The spec's fields and defaults are listed in docs/training.md.
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       OptionalAttr<FlatSymbolRefAttr>:$energy,
                       OptionalAttr<ArrayAttr>:$energy_params,
                       OptionalAttr<FlatSymbolRefAttr>:$free_energy,
                       OptionalAttr<ArrayAttr>:$free_energy_params,
                       OptionalAttr<FlatSymbolRefAttr>:$gibbs,
                       OptionalAttr<ArrayAttr>:$gibbs_params,
                       OptionalAttr<FlatSymbolRefAttr>:$component_log_mass,
                       OptionalAttr<ArrayAttr>:$component_log_mass_params,
                       OptionalAttr<FlatSymbolRefAttr>:$generator,
                       OptionalAttr<ArrayAttr>:$generator_params,
                       OptionalAttr<StrAttr>:$posterior_kind,
                       OptionalAttr<FlatSymbolRefAttr>:$posterior,
                       OptionalAttr<ArrayAttr>:$posterior_params,
                       OptionalAttr<F64Attr>:$temperature,
                       DictionaryAttr:$spec);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $sym_name (`energy` $energy^ $energy_params)?
    (`free_energy` $free_energy^ $free_energy_params)?
    (`gibbs` $gibbs^ $gibbs_params)?
    (`component_log_mass` $component_log_mass^ $component_log_mass_params)?
    (`generator` $generator^ $generator_params)?
    (`posterior` $posterior_kind^ $posterior $posterior_params)?
    (`temperature` $temperature^)? `spec` $spec attr-dict-with-keyword $body
  }];
  let hasRegionVerifier = 1;
}

def Bism_ParamOp : Bism_Op<"param", [Symbol, HasParent<"ModelOp">]> {
  let summary = "a trainable parameter with its group and initialiser";
  let description = [{
    `group` is `"theta"` (energy) or `"phi"` (posterior). `init` is one of
    `"zeros"`, `"constant"` (`value`, a number), `"value"` (`value`, a dense
    tensor of the parameter's type: the initial value itself, as
    `--bism-resolve-onnx` writes for ONNX initializers), `"normal"` (`mean`
    = 0, `std`), `"uniform"` (`low`, `high`), `"kaiming_uniform"` (`gain` =
    1: bound gain * sqrt(3 / fan_in), fan_in = size of dimension 0).

    ```mlir
    bism.param @W : tensor<2x4xf32> {group = "theta", init = "normal", std = 0.01}
    bism.param @b : tensor<2xf32> {group = "theta", init = "value", value = dense<[0.5, -1.0]> : tensor<2xf32>}
    ```
  }];
  // `value` is a number for init "constant" and a dense tensor for init
  // "value"; the verifier checks which.
  let arguments = (ins SymbolNameAttr:$sym_name, TypeAttrOf<Bism_StaticTensor>:$type,
                       StrAttr:$group, StrAttr:$init,
                       OptionalAttr<AnyAttrOf<[F64Attr, ElementsAttr]>>:$value,
                       OptionalAttr<F64Attr>:$mean,
                       OptionalAttr<F64Attr>:$std, OptionalAttr<F64Attr>:$low,
                       OptionalAttr<F64Attr>:$high, OptionalAttr<F64Attr>:$gain);
  let assemblyFormat = "$sym_name `:` $type attr-dict";
  let hasVerifier = 1;
}

#endif // BISM_MODEL_OPS_TD
