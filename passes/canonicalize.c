/* passes/canonicalize.c — fold every op and apply every op's canonical patterns (the
 * opdefs' fold hooks and canonical_patterns) with the greedy driver; dead pure ops go. */
#include "passes/passes.h"

static const tm_pass_option options[] = {
    {.name = "max-iterations", .kind = TM_OPT_INT, .default_value = "10", .min = 1, .max = 1000000,
     .help = "Sweeps over all ops before giving up on reaching a fixpoint"},
    {.name = "fold", .kind = TM_OPT_BOOL, .default_value = "true", .help = "Also apply the ops' fold hooks"},
    {.name = "test-convergence", .kind = TM_OPT_BOOL, .default_value = "false",
     .help = "Warn when max-iterations sweeps do not reach a fixpoint"},
};

static int run(tm_ctx *ctx, tm_op *root, const tm_pass_options *opts) {
  tm_greedy_config cfg = {
      .max_iterations = (int)tm_pass_opt_int(opts, "max-iterations"),
      .fold = tm_pass_opt_bool(opts, "fold"),
      .use_canonical_patterns = true,
      .strict = tm_pass_opt_bool(opts, "test-convergence"),
  };
  tm_apply_patterns_greedily(ctx, root, NULL, 0, &cfg, NULL);
  return 0;
}

TM_REGISTER_PASS(canonicalize, "canonicalize", "Fold ops and apply their canonical patterns; erase dead ops", run,
                 TM_PASS_OPTIONS(options));
