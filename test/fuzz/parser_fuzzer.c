/* Fuzz target: any bytes through the parser, the verifier and the printer.  A finding is
 * a crash, a sanitizer report, a leak or a hang; diagnostics are the expected outcome. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"
#include "ir/ir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(tm_ctx *ctx, const tm_diag *d, void *user) {
  (void)ctx, (void)d, (void)user;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tm_ctx *ctx = tm_ctx_new();
  tm_diag_set_handler(ctx, quiet, NULL);
  char *text = tm_arena_alloc(tm_ctx_arena(ctx), size + 1, 1);
  memcpy(text, data, size);
  tm_parse_options opt = {.allow_unregistered = (size & 1) != 0};
  tm_op *module = tm_parse_module(ctx, "fuzz.tir", text, size, &opt);
  if (module && tm_verify(ctx, module) == 0) {
    /* Printing must work on anything that verified; keep the text to re-parse it. */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    tm_print_op(ctx, module, &(tm_print_flags){.locations = true}, f);
    fclose(f);
    tm_ctx *ctx2 = tm_ctx_new();
    tm_diag_set_handler(ctx2, quiet, NULL);
    if (!tm_parse_module(ctx2, "printed.tir", buf, len, &opt)) {
      fprintf(stderr, "printed IR does not re-parse:\n%s\n", buf);
      abort(); /* a round-trip bug is a finding */
    }
    tm_ctx_free(ctx2);
    free(buf);
  }
  tm_ctx_free(ctx);
  return 0;
}
