/* passes/passes.h — passes, the pass registry, pipelines and the greedy rewrite driver.
 *
 * A pass is a function over a root op (a builtin.module, or a func.func when it runs
 * nested in `func.func(...)`) plus a static description: its pipeline name, a summary
 * and typed options.  Every pass is listed once in passes/passes.def; the registry is a
 * const table built from that list.
 *
 * Pipelines use MLIR's textual syntax:
 *   canonicalize,cse,fold-constants{max-bytes=4096}
 *   builtin.module(canonicalize{max-iterations=3 fold=false},func.func(cse))
 * Options go space-separated inside braces as key=value (a bool may be bare: `fold`).
 * `op.name(...)` runs the nested pipeline on every op of that name directly inside the
 * current root (`any(...)` on every op); a top-level `builtin.module(...)` anchors the
 * whole pipeline on the module. */
#ifndef TM_PASSES_H
#define TM_PASSES_H

#include "ir/ir.h"

/* ------------------------------------------------------------------ options ------- */
typedef enum { TM_OPT_BOOL, TM_OPT_INT, TM_OPT_FLOAT, TM_OPT_STRING, TM_OPT_INT_LIST } tm_opt_kind;

typedef struct tm_pass_option {
  const char *name;          /* "max-iterations" */
  tm_opt_kind kind;
  const char *default_value; /* parsed like a command-line value; NULL: false, 0, "" or [] */
  const char *help;
  int64_t min, max;          /* TM_OPT_INT, TM_OPT_INT_LIST, TM_OPT_FLOAT: accepted range when min < max */
} tm_pass_option;

/* Parsed option values of one pass instance in a pipeline (defaults filled in).  The
 * getters take the option's name; asking for an option the pass does not declare, or
 * with the wrong getter, is a programming error and answers 0 / false / "" / empty. */
typedef struct tm_pass_options tm_pass_options;
bool tm_pass_opt_bool(const tm_pass_options *o, const char *name);
int64_t tm_pass_opt_int(const tm_pass_options *o, const char *name);
double tm_pass_opt_float(const tm_pass_options *o, const char *name);
const char *tm_pass_opt_str(const tm_pass_options *o, const char *name);
const int64_t *tm_pass_opt_int_list(const tm_pass_options *o, const char *name, int *n);

typedef struct tm_pass_info tm_pass_info;
/* Option values of `pass` from "key=value ..." (what goes inside the braces), defaults
 * filled in; NULL after an error located in `source` at line 1.  Pipelines do this for
 * every pass; tools and tests may call it directly. */
tm_pass_options *tm_pass_options_parse(tm_ctx *ctx, const tm_pass_info *pass, const char *text, const char *source);

/* ------------------------------------------------------------------- passes ------- */
/* Runs the pass on root; returns 0, or -1 after reporting a located error. */
typedef int (*tm_pass_run_fn)(tm_ctx *ctx, tm_op *root, const tm_pass_options *opts);

struct tm_pass_info {
  const char *arg;     /* pipeline name and --flag: "fold-constants" */
  const char *summary; /* one line for --list-passes */
  tm_pass_run_fn run;
  const tm_pass_option *options;
  int noptions;
};

/* Runs fn on root when it is a func.func, else on every func.func directly inside root (a
 * builtin.module), stopping at the first failure: the entry of a pass that works function
 * by function.  Returns 0 or -1. */
typedef int (*tm_func_pass_fn)(tm_ctx *ctx, tm_op *func, const tm_pass_options *opts);
int tm_pass_each_func(tm_ctx *ctx, tm_op *root, tm_func_pass_fn fn, const tm_pass_options *opts);

/* Defines the pass's registry entry `tm_pass_<ident>`; list <ident> in passes.def too.
 *   TM_REGISTER_PASS(cse, "cse", "Eliminate common sub-expressions", run_cse);
 *   TM_REGISTER_PASS(canonicalize, "canonicalize", "...", run, TM_PASS_OPTIONS(options)); */
#define TM_PASS_OPTIONS(array) array, (int)TM_COUNTOF(array)
#define TM_REGISTER_PASS(ident, arg_, summary_, ...) \
  const tm_pass_info tm_pass_##ident = {.arg = arg_, .summary = summary_, .run = __VA_ARGS__}

#define PASS(ident) extern const tm_pass_info tm_pass_##ident;
#include "passes/passes.def"
#undef PASS

/* The registry, in passes.def order (alphabetical). */
int tm_pass_count(void);
const tm_pass_info *tm_pass_at(int i);
const tm_pass_info *tm_pass_lookup(const char *arg, size_t len); /* NULL if unknown */
/* "CamelCase" display name derived from arg ("fold-constants" -> "FoldConstants"). */
const char *tm_pass_display_name(tm_ctx *ctx, const tm_pass_info *pass);
/* "<int>", "<bool>", "<float>", "<string>", "<int,...>" */
const char *tm_opt_kind_name(tm_opt_kind k);

/* ------------------------------------------------------------------- timing ------- */
/* A tree of wall-clock timers, printed like mlir-opt's -mlir-timing report.  The root
 * measures the total from its creation to tm_timing_print. */
typedef struct tm_timer tm_timer;
tm_timer *tm_timing_new(tm_ctx *ctx);
tm_timer *tm_timer_child(tm_timer *parent, const char *name); /* find or create */
void tm_timer_start(tm_timer *t);
void tm_timer_stop(tm_timer *t); /* adds the time since the matching start */
void tm_timing_print(tm_timer *root, void *stdio_file);

/* ---------------------------------------------------------------- pipelines ------- */
typedef struct tm_pipeline tm_pipeline;
tm_pipeline *tm_pipeline_new(tm_ctx *ctx);
/* Parse a textual pipeline and append it.  Errors are located in `source` (e.g.
 * "<pass-pipeline>") at line 1 and the column of the offending character; returns -1. */
int tm_pipeline_parse(tm_pipeline *p, const char *text, const char *source);
/* Append the pass named by a command-line flag: "--canonicalize",
 * "--canonicalize=max-iterations=3 fold=false" or "--cse={...}".  Errors are located in
 * the flag (source named after it, e.g. "--canonicalize"). */
int tm_pipeline_parse_flag(tm_pipeline *p, const char *flag);
/* The pipeline in canonical textual form, all options explicit (--dump-pass-pipeline). */
void tm_pipeline_print(const tm_pipeline *p, void *stdio_file);

/* Named pipelines (passes/pipelines.def): "O2" -> "canonicalize,fuse,...", and the LLVM
 * optimization level it implies ("2"; "s" for Os). */
typedef struct tm_named_pipeline {
  const char *name, *pipeline, *summary, *llvm_level;
} tm_named_pipeline;
int tm_named_pipeline_count(void);
const tm_named_pipeline *tm_named_pipeline_at(int i);
const tm_named_pipeline *tm_named_pipeline_lookup(const char *name, size_t len); /* NULL if unknown */

typedef struct tm_pass_run_config {
  bool verify_each;           /* tm_verify after every pass; stop on failure */
  bool print_before_all, print_after_all;
  const char *print_before;   /* comma-separated pass args to dump before, or NULL */
  const char *print_after;    /* ... after, or NULL */
  tm_print_flags print_flags; /* for the dumps */
  void *dump_file;            /* FILE* for dumps; NULL: stderr */
  tm_timer *timer;            /* parent of one timer per pass, or NULL */
} tm_pass_run_config;
/* Runs every pass in order; returns 0, or -1 after the first failure (reported). */
int tm_pipeline_run(tm_pipeline *p, tm_op *root, const tm_pass_run_config *cfg);

/* ------------------------------------------------------------- greedy driver ------ */
typedef struct tm_greedy_config {
  int max_iterations;          /* sweeps over all ops until nothing changes; <= 0: 10 */
  int64_t max_rewrites;        /* per sweep, against patterns undoing each other; <= 0: 1000 + 64 per op */
  bool fold;                   /* try opdef->fold */
  int64_t max_fold_bytes;      /* do not fold into constants storing more bytes; <= 0: no limit */
  bool use_canonical_patterns; /* also apply each op's opdef->canonical_patterns */
  bool strict;                 /* warn (at root) when no fixpoint is reached */
} tm_greedy_config;

/* Applies folds and patterns to every op nested in root until a fixpoint: trivially dead
 * ops (pure, unused, with only pure nested ops) are erased; then opdef->fold (constant
 * results are materialized with tm_rw_const_before); then the patterns whose root is the
 * op's name or NULL, highest benefit first.  Patterns must change the IR only through the
 * rewriter they get.  cfg NULL: 10 iterations, fold, no canonical patterns.  *changed
 * (may be NULL) tells whether anything changed.  Returns 0 on convergence, 1 if
 * max_iterations were not enough. */
int tm_apply_patterns_greedily(tm_ctx *ctx, tm_op *root, const tm_pattern *pats, int n,
                               const tm_greedy_config *cfg, bool *changed);

/* ------------------------------------------------------------- analyses ----------- */
/* The memory plan of every planned function (tm.arena_bytes) of a module: arena size,
 * each arena view's offset, bytes and lifetime (body op indices), and the lower bound
 * (most bytes live at one op).  passes/plan_memory.c; tinyml-opt --memory-report. */
void tm_memory_report(tm_ctx *ctx, tm_op *module, void *stdio_file);

#endif /* TM_PASSES_H */
