# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "bism"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".onnxtext"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.bism_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "unit", "Inputs"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
llvm_config.with_system_environment(["HOME", "TMP", "TEMP"])
llvm_config.use_default_substitutions()
# `not`, `count` and FileCheck at the start of a RUN line come from PATH.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.bism_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(["bism-opt", "bism-run", "bism-translate"], tool_dirs)

# Compiled objects are cached per test run inside the build tree, never in
# the user's ~/.cache.
config.environment["BISM_CACHE_DIR"] = os.path.join(config.test_exec_root, "jit-cache")

# The CUDA toolkit's ptxas turns the CUDA back end's PTX into cubins (tests
# that need it say `REQUIRES: ptxas`; without a toolkit they are skipped and
# lit prints so).
cuda_toolkit = os.environ.get("BISM_CUDA_TOOLKIT", "/usr/local/cuda")
if os.access(os.path.join(cuda_toolkit, "bin", "ptxas"), os.X_OK):
    config.available_features.add("ptxas")
config.substitutions.append(("%cuda_toolkit", cuda_toolkit))

# A CUDA driver (libcuda.so.1) on this machine: tests of what bism says
# without one are `UNSUPPORTED: cuda-driver` (the GPU tests run in the unit
# tests, which skip with a printed reason where there is none).
try:
    import ctypes
    ctypes.CDLL("libcuda.so.1")
    config.available_features.add("cuda-driver")
except OSError:
    pass

# Data parallel: bism built with MPI and Open MPI's mpirun on PATH (tests say
# `REQUIRES: mpi`). The tests run 2 ranks on one machine: oversubscribed
# (more ranks than cores is fine), as root where CI runs so, and with
# shared-memory copies that need no ptrace permission (containers).
import shutil
if config.bism_have_mpi and shutil.which("mpirun"):
    config.available_features.add("mpi")
    for name, value in [("OMPI_ALLOW_RUN_AS_ROOT", "1"),
                        ("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"),
                        ("OMPI_MCA_rmaps_base_oversubscribe", "1"),
                        ("OMPI_MCA_btl_vader_single_copy_mechanism", "none")]:
        config.environment[name] = value
else:
    lit_config.note("MPI not found (bism built without libopenmpi-dev, or no "
                    "mpirun on PATH): the data-parallel tests are skipped")
