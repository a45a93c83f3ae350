#!/bin/sh
# skip_without_onnx.sh PYTHON SCRIPT ARGS...: run SCRIPT with PYTHON if it can import
# onnx and numpy, else exit 77 (CTest's skip) with a note.
py="$1"; shift
if [ -z "$py" ] || ! "$py" -c "import onnx, numpy" 2>/dev/null; then
  echo "skipped: python3-onnx is not importable by '$py'"
  exit 77
fi
exec "$py" "$@"
