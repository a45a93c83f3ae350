# lit configuration for tinyml.  Run through ctest (see test/CMakeLists.txt), or by hand:
#   lit.py -sv --param tinyml_site_config=build/test/lit.site.cfg.py test/
import os
import sys
import lit.formats

config.name = "tinyml"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".tir"]
config.excludes = ["Inputs", "fuzz", "unit", "tools"]
config.test_source_root = os.path.dirname(__file__)

site = lit_config.params.get("tinyml_site_config")
if site and not hasattr(config, "tinyml_bin_dir"):
    lit_config.load_config(config, site)

config.test_exec_root = os.path.join(config.tinyml_build_dir, "test")
config.environment["PATH"] = os.pathsep.join(
    [config.tinyml_bin_dir, os.path.join(config.tinyml_build_dir, "tinyml-run"), os.path.dirname(config.filecheck),
     config.environment.get("PATH", "")])
config.substitutions.append(("%FileCheck", config.filecheck))
# Every `tinyml-opt` in a RUN line goes through the round-trip and mlir-opt check
# (tools/tinyml-opt-checked.py); `%tinyml-opt-unchecked` reaches the tool directly.
tinyml_opt = os.path.join(config.tinyml_bin_dir, "tinyml-opt")
config.substitutions.append(("%tinyml-opt-unchecked", tinyml_opt))
config.substitutions.append((r"(?<![\w/.%-])tinyml-opt(?![\w.-])", "%s %s %s %s" % (
    sys.executable, os.path.join(config.test_source_root, "tools", "tinyml-opt-checked.py"),
    tinyml_opt, config.mlir_opt or "false")))
config.substitutions.append(("%mlir-opt", config.mlir_opt or "false"))
config.substitutions.append(("%shared", config.shared_dir))
# Sanitizer runs must not be fooled by leaks at exit of short-lived tools.
config.environment["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0"
config.environment["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
if config.mlir_opt:
    config.available_features.add("mlir-opt")
if os.path.isdir(config.shared_dir):
    config.available_features.add("shared-models")
# Debian's python3-onnx (importable by /usr/bin/python3 only) writes the ONNX test models.
if os.path.exists("/usr/bin/python3") and os.system("/usr/bin/python3 -c 'import onnx' 2>/dev/null") == 0:
    config.available_features.add("python3-onnx")
