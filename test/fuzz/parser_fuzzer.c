/* Fuzz target: any bytes through the parser, the verifier and the printer.  A finding is
 * a crash, a sanitizer report, a leak or a hang; diagnostics are the expected outcome. */
#include <string.h>

#include "fuzz_roundtrip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tm_ctx *ctx = fuzz_ctx_new();
  char *text = tm_arena_alloc(tm_ctx_arena(ctx), size + 1, 1);
  memcpy(text, data, size);
  tm_parse_options opt = {.allow_unregistered = (size & 1) != 0};
  fuzz_check_roundtrip(ctx, tm_parse_module(ctx, "fuzz.tir", text, size, &opt), &opt);
  tm_ctx_free(ctx);
  return 0;
}
