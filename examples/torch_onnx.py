"""The one ONNX export the examples' PyTorch scripts share
(examples/tutorial/export_torch.py, examples/deep/export.py): a module's
graph with its parameters as the only initializers, under PyTorch's names,
so that bism trains exactly those tensors."""

import os
import sys

import onnx
import torch


def export_with_parameters(path, model, inputs, input_names, output_names):
    """Writes `model` on `inputs` to `path` (opset 17, batch dimension
    symbolic) and returns its initializer names, checked to be the
    parameters."""
    axes = {n: {0: "batch"} for n in input_names + output_names}
    # do_constant_folding=False: folding would turn expressions of parameters
    # alone (exp(-2 logsigma)) into new initializers, which bism would then
    # train as parameters of their own, under names like onnx::Exp_26.
    # dynamo=False: the TorchScript exporter keeps PyTorch's parameter names.
    torch.onnx.export(model.eval(), tuple(inputs), path,
                      input_names=input_names, output_names=output_names,
                      dynamic_axes=axes, opset_version=17,
                      do_constant_folding=False, dynamo=False)
    exported = onnx.load(path)
    onnx.checker.check_model(exported)
    names = sorted(t.name for t in exported.graph.initializer)
    if names != sorted(dict(model.named_parameters())):
        sys.exit(f"{path}: initializers {names} are not the parameters")
    return names


def export_next_to(directory, name, model, inputs, input_names, output_names):
    """Writes `model` to directory/name.onnx and says how big it is."""
    names = export_with_parameters(os.path.join(directory, name + ".onnx"),
                                   model, inputs, input_names, output_names)
    count = sum(p.numel() for p in model.parameters())
    print(f"{name}.onnx: {len(names)} tensors, {count} parameters")
