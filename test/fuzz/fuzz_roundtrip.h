/* Shared by the fuzz targets that produce a module: diagnostics go nowhere (they are the
 * expected outcome), and whatever verifies must print as IR that parses again, since a
 * printer that writes unparsable text is a bug the fuzzers should find. */
#ifndef TM_FUZZ_ROUNDTRIP_H
#define TM_FUZZ_ROUNDTRIP_H
#include <stdio.h>
#include <stdlib.h>

#include "frontend/frontend.h"
#include "ir/ir.h"

static void fuzz_quiet(tm_ctx *ctx, const tm_diag *d, void *user) {
  (void)ctx, (void)d, (void)user;
}

static tm_ctx *fuzz_ctx_new(void) {
  tm_ctx *ctx = tm_ctx_new();
  tm_diag_set_handler(ctx, fuzz_quiet, NULL);
  return ctx;
}

/* Verify `module` (may be NULL); if it verifies, print it and abort unless the text parses. */
static void fuzz_check_roundtrip(tm_ctx *ctx, tm_op *module, const tm_parse_options *opt) {
  if (!module || tm_verify(ctx, module) != 0) return;
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  tm_print_op(ctx, module, &(tm_print_flags){.locations = true}, f);
  fclose(f);
  tm_ctx *ctx2 = fuzz_ctx_new();
  if (!tm_parse_module(ctx2, "printed.tir", buf, len, opt)) {
    fprintf(stderr, "printed IR does not re-parse:\n%s\n", buf);
    abort();
  }
  tm_ctx_free(ctx2);
  free(buf);
}
#endif
