/* passes/dce.c — erase pure ops whose results are unused, transitively: the greedy
 * driver without folds or patterns does exactly that.  Block arguments stay. */
#include "passes/passes.h"

static int run(tm_ctx *ctx, tm_op *root, const tm_pass_options *opts) {
  (void)opts;
  tm_greedy_config cfg = {.fold = false};
  tm_apply_patterns_greedily(ctx, root, NULL, 0, &cfg, NULL);
  return 0;
}

TM_REGISTER_PASS(dce, "dce", "Erase pure ops whose results are unused", run);
