/* Fuzz target: any bytes through a model importer (FUZZ_IMPORT_ONNX: protobuf-c's decoder
 * and the ONNX importer; otherwise the TFLite reader and importer), then the verifier and
 * the printer.  A finding is a crash, a sanitizer report, a leak, a hang or imported IR
 * that does not re-parse; diagnostics are the expected outcome. */
#include "fuzz_roundtrip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tm_ctx *ctx = fuzz_ctx_new();
#ifdef FUZZ_IMPORT_ONNX
  tm_op *module = tm_import_onnx(ctx, "fuzz.onnx", data, size, NULL);
#else
  tm_op *module = tm_import_tflite(ctx, "fuzz.tflite", data, size, NULL);
#endif
  fuzz_check_roundtrip(ctx, module, NULL);
  tm_ctx_free(ctx);
  return 0;
}
