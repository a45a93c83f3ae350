/* Fuzz target: any bytes through the ONNX importer (protobuf-c decoding included), the
 * verifier and the printer.  A finding is a crash, a sanitizer report, a leak or a hang;
 * diagnostics are the expected outcome.  Whatever imports and verifies must print as IR that re-parses. */
#include <stdio.h>
#include <stdlib.h>

#include "frontend/frontend.h"
#include "ir/ir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(tm_ctx *ctx, const tm_diag *d, void *user) {
  (void)ctx, (void)d, (void)user;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tm_ctx *ctx = tm_ctx_new();
  tm_diag_set_handler(ctx, quiet, NULL);
  tm_op *module = tm_import_onnx(ctx, "fuzz.onnx", data, size, NULL);
  if (module && tm_verify(ctx, module) == 0) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    tm_print_op(ctx, module, &(tm_print_flags){.locations = true}, f);
    fclose(f);
    tm_ctx *ctx2 = tm_ctx_new();
    tm_diag_set_handler(ctx2, quiet, NULL);
    if (!tm_parse_module(ctx2, "printed.tir", buf, len, NULL)) {
      fprintf(stderr, "imported IR does not re-parse:\n%s\n", buf);
      abort(); /* a printer or importer bug is a finding */
    }
    tm_ctx_free(ctx2);
    free(buf);
  }
  tm_ctx_free(ctx);
  return 0;
}
