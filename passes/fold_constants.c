/* passes/fold_constants.c — evaluate ops whose operands are constants, through the
 * opdefs' fold hooks only (no canonical patterns); operands left unused are erased. */
#include "passes/passes.h"

static const tm_pass_option options[] = {
    {.name = "max-bytes", .kind = TM_OPT_INT, .default_value = "1048576", .min = 1, .max = INT64_MAX,
     .help = "Do not create constants storing more bytes (big weights are not duplicated)"},
};

static int run(tm_ctx *ctx, tm_op *root, const tm_pass_options *opts) {
  tm_greedy_config cfg = {.fold = true, .max_fold_bytes = tm_pass_opt_int(opts, "max-bytes")};
  tm_apply_patterns_greedily(ctx, root, NULL, 0, &cfg, NULL);
  return 0;
}

TM_REGISTER_PASS(fold_constants, "fold-constants", "Fold ops with constant operands into constants", run,
                 TM_PASS_OPTIONS(options));
