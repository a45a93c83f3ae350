/* tinyml-opt/main.c — tinyml's mlir-opt: read IR, run a pass pipeline, print IR.
 *
 *   tinyml-opt [file|-] [-o out] [--pass-pipeline=...] [--<pass>[=<options>]...] [flags]
 *   tinyml-opt model.tir --emit=c -o out/model.c [--name=model]   (code instead of IR)
 *   tinyml-opt model.tir --emit=lib --target=cortex-m4 -o out/model.a   (through LLVM)
 *   tinyml-opt model.tflite [...]   (a TFLite model is imported instead of parsed)
 *   tinyml-opt model.onnx [...]     (likewise an ONNX model; --input-shape fixes dynamic dims)
 *
 * Flags are a table (name, alias, kind, field); every registered pass is a flag too.
 * Only this driver prints to the user directly and decides the exit status: 0 on
 * success, 1 after any error. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "frontend/frontend.h"
#include "passes/passes.h"

#ifndef TINYML_VERSION
#define TINYML_VERSION "dev"
#endif

typedef struct options {
  const char *input, *output, *pipeline, *print_after, *print_before, *emit, *name, *import, *target, *opt_level, *input_shape;
  const char *pipeline_llvm_level; /* the last named pipeline's (-Os: "s"), --opt-level's default */
  bool verify_each, timing, print_after_all, print_before_all, locations, generic, split, verify_diags,
      allow_unregistered, dump_pipeline, list_passes, list_pipelines, list_ops, help, version, memory_report,
      list_targets, check_regions;
  char stem[80]; /* --emit's default model name */
} options;

typedef enum { FLAG_BOOL, FLAG_VALUE } flag_kind;

static const struct flag {
  const char *name, *alias;
  flag_kind kind;
  size_t field;
  const char *meta, *help;
} flags[] = {
    {"o", NULL, FLAG_VALUE, offsetof(options, output), "<file>", "Write the output here (default: stdout)"},
    {"pass-pipeline", NULL, FLAG_VALUE, offsetof(options, pipeline), "<pipeline>",
     "Passes to run, e.g. 'builtin.module(canonicalize,func.func(cse))'"},
    {"emit", NULL, FLAG_VALUE, offsetof(options, emit), "<backend>",
     "Write code instead of IR to the -o file and NAME.h beside it: 'c' (NAME.c), or through LLVM 'llvm' (.ll), "
     "'bc', 'asm', 'obj' (.o) or 'lib' (NAME.a)"},
    {"name", NULL, FLAG_VALUE, offsetof(options, name), "<identifier>",
     "Model name for --emit, the prefix of the generated symbols (default: the -o file stem)"},
    {"target", NULL, FLAG_VALUE, offsetof(options, target), "<target>",
     "For the LLVM emitters (llvm, bc, asm, obj, lib): the target (default: host; see --list-targets)"},
    {"check-alias-regions", NULL, FLAG_BOOL, offsetof(options, check_regions), NULL,
     "For the LLVM emitters at -Os (s, z): each access that carries an alias scope first checks that it stays "
     "inside its view's bytes, and traps if not (debugging; docs/llvm-backend.md)"},
    {"opt-level", NULL, FLAG_VALUE, offsetof(options, opt_level), "0|1|2|3|s|z",
     "For the LLVM emitters: LLVM's optimization level (default: the named pipeline's, s for -Os; else 2)"},
    {"import", NULL, FLAG_VALUE, offsetof(options, import), "tflite|onnx|tir",
     "Input format (default: by extension, .tflite or .onnx, else tir)"},
    {"input-shape", NULL, FLAG_VALUE, offsetof(options, input_shape), "<name>:<DxD...>[,...]",
     "ONNX: fix the dynamic dimensions of graph inputs, e.g. input:1x3x32x32"},
    {"memory-report", NULL, FLAG_BOOL, offsetof(options, memory_report), NULL,
     "After the passes, print the memory plan (see plan-memory) to stderr"},
    {"verify-each", NULL, FLAG_BOOL, offsetof(options, verify_each), NULL, "Verify after every pass (default: true)"},
    {"print-ir-before-all", "mlir-print-ir-before-all", FLAG_BOOL, offsetof(options, print_before_all), NULL,
     "Print the IR to stderr before every pass"},
    {"print-ir-after-all", "mlir-print-ir-after-all", FLAG_BOOL, offsetof(options, print_after_all), NULL,
     "Print the IR to stderr after every pass"},
    {"print-ir-before", "mlir-print-ir-before", FLAG_VALUE, offsetof(options, print_before), "<pass>[,<pass>...]",
     "Print the IR to stderr before these passes"},
    {"print-ir-after", "mlir-print-ir-after", FLAG_VALUE, offsetof(options, print_after), "<pass>[,<pass>...]",
     "Print the IR to stderr after these passes"},
    {"timing", "mlir-timing", FLAG_BOOL, offsetof(options, timing), NULL,
     "Report the wall time of parsing, verifying, each pass and printing to stderr"},
    {"print-locations", "mlir-print-debuginfo", FLAG_BOOL, offsetof(options, locations), NULL,
     "Print loc(...) after every op"},
    {"print-op-generic", "mlir-print-op-generic", FLAG_BOOL, offsetof(options, generic), NULL,
     "Print every op, func and module included, in the generic form"},
    {"split-input-file", NULL, FLAG_BOOL, offsetof(options, split), NULL,
     "Process the chunks between '// -----' lines separately; join the outputs with '// -----'"},
    {"verify-diagnostics", NULL, FLAG_BOOL, offsetof(options, verify_diags), NULL,
     "Check diagnostics against 'expected-error {{...}}' comments; succeed iff all match"},
    {"allow-unregistered-dialect", NULL, FLAG_BOOL, offsetof(options, allow_unregistered), NULL,
     "Accept ops of unknown dialects"},
    {"dump-pass-pipeline", NULL, FLAG_BOOL, offsetof(options, dump_pipeline), NULL,
     "Print the pipeline with every option to stderr before running it"},
    {"list-passes", NULL, FLAG_BOOL, offsetof(options, list_passes), NULL, "List the passes and their options"},
    {"list-pipelines", NULL, FLAG_BOOL, offsetof(options, list_pipelines), NULL,
     "List the named pipelines (-O0, -O1, -O2: each also a flag)"},
    {"list-ops", NULL, FLAG_BOOL, offsetof(options, list_ops), NULL, "List the registered ops"},
    {"list-targets", NULL, FLAG_BOOL, offsetof(options, list_targets), NULL, "List the targets of the LLVM emitters"},
    {"version", NULL, FLAG_BOOL, offsetof(options, version), NULL, "Print the version"},
    {"help", "h", FLAG_BOOL, offsetof(options, help), NULL, "Print this help"},
};

static __attribute__((format(printf, 1, 2))) int usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("tinyml-opt: error: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputs("\n", stderr);
  va_end(ap);
  return -1;
}

static const struct flag *find_flag(const char *name, size_t len) {
  for (size_t i = 0; i < TM_COUNTOF(flags); i++) {
    const struct flag *f = &flags[i];
    if ((strlen(f->name) == len && !strncmp(f->name, name, len)) ||
        (f->alias && strlen(f->alias) == len && !strncmp(f->alias, name, len)))
      return f;
  }
  return NULL;
}

/* .tflite and .onnx models are imported, anything else parsed as IR, unless --import says. */
static bool is_tflite(const options *o) {
  if (o->import) return !strcmp(o->import, "tflite");
  size_t n = o->input ? strlen(o->input) : 0;
  return n >= 7 && !strcmp(o->input + n - 7, ".tflite");
}

static bool is_onnx(const options *o) {
  if (o->import) return !strcmp(o->import, "onnx");
  size_t n = o->input ? strlen(o->input) : 0;
  return n >= 5 && !strcmp(o->input + n - 5, ".onnx");
}

/* Flags are "-name" or "--name", values "=value" or the next argument; pass flags go to
 * the pipeline in command-line order. */
static int parse_args(int argc, char **argv, options *o, tm_pipeline *pipeline) {
  bool pass_flags = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-' || !strcmp(a, "-")) {
      if (o->input) return usage_error("more than one input file: '%s'", a);
      o->input = a;
      continue;
    }
    const char *name = a + (a[1] == '-' ? 2 : 1);
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    const struct flag *f = find_flag(name, len);
    const tm_named_pipeline *np = f || eq ? NULL : tm_named_pipeline_lookup(name, len);
    if (np) { /* -O2: the named pipeline's passes, in command-line order like pass flags */
      if (tm_pipeline_parse(pipeline, np->pipeline, a)) return -1;
      o->pipeline_llvm_level = np->llvm_level;
      pass_flags = true;
      continue;
    }
    if (!f) {
      if (!tm_pass_lookup(name, len)) return usage_error("unknown command line argument '%s' (see --help)", a);
      if (tm_pipeline_parse_flag(pipeline, a)) return -1;
      pass_flags = true;
      continue;
    }
    void *field = (char *)o + f->field;
    if (f->kind == FLAG_BOOL) {
      const char *v = eq ? eq + 1 : "true";
      if (strcmp(v, "true") && strcmp(v, "1") && strcmp(v, "false") && strcmp(v, "0"))
        return usage_error("invalid value in '%s': expected true or false", a);
      *(bool *)field = !strcmp(v, "true") || !strcmp(v, "1");
    } else if (eq) {
      *(const char **)field = eq + 1;
    } else if (i + 1 < argc) {
      *(const char **)field = argv[++i];
    } else {
      return usage_error("missing value for '%s'", a);
    }
  }
  if (pass_flags && o->pipeline) return usage_error("--pass-pipeline cannot be combined with individual pass flags");
  if (o->pipeline && tm_pipeline_parse(pipeline, o->pipeline, "<pass-pipeline>")) return -1;
  if (o->emit) {
    if (!tm_backend_lookup(o->emit)) return usage_error("unknown backend '%s' for --emit (see --help)", o->emit);
    if (!o->output || !strcmp(o->output, "-")) return usage_error("--emit needs -o <file>");
    if (o->split && !o->verify_diags)
      return usage_error("--emit takes --split-input-file only with --verify-diagnostics");
    if (!o->name) { /* the -o file's stem */
      const char *slash = strrchr(o->output, '/'), *file = slash ? slash + 1 : o->output;
      snprintf(o->stem, sizeof o->stem, "%.*s", (int)strcspn(file, "."), file);
      o->name = o->stem;
    }
    if (!o->opt_level) o->opt_level = o->pipeline_llvm_level;
    bool size = o->opt_level && (!strcmp(o->opt_level, "s") || !strcmp(o->opt_level, "z"));
    if (o->check_regions && (!size || !strcmp(o->emit, "c")))
      return usage_error("--check-alias-regions needs an LLVM emitter optimizing for size (-Os, or --opt-level=s or z)");
    if (!tm_is_c_identifier(o->name))
      return usage_error("model name '%s' is not a C identifier (choose one with --name)", o->name);
  } else if (o->name || o->target || o->opt_level || o->check_regions) {
    return usage_error("--%s needs --emit",
                       o->name ? "name" : o->target ? "target" : o->opt_level ? "opt-level" : "check-alias-regions");
  }
  if (o->import && strcmp(o->import, "tflite") && strcmp(o->import, "onnx") && strcmp(o->import, "tir"))
    return usage_error("unknown input format '%s' for --import (tflite, onnx or tir)", o->import);
  if (o->input_shape && !is_onnx(o)) return usage_error("--input-shape applies to ONNX models only");
  if ((is_tflite(o) || is_onnx(o)) && (o->split || o->verify_diags))
    return usage_error("--%s needs IR input, not a TFLite model", o->split ? "split-input-file" : "verify-diagnostics");
  const char *lists[] = {o->print_before, o->print_after};
  for (int k = 0; k < 2; k++)
    for (const char *s = lists[k]; s && *s;) {
      size_t n = strcspn(s, ",");
      if (!tm_pass_lookup(s, n))
        return usage_error("unknown pass '%.*s' in --print-ir-%s", (int)n, s, k ? "after" : "before");
      s += n + (s[n] == ',');
    }
  return 0;
}

static void print_help(void) {
  puts("OVERVIEW: tinyml modular optimizer driver\n\n"
       "USAGE: tinyml-opt [options] [<input file> | -]\n\nOPTIONS:");
  for (size_t i = 0; i < TM_COUNTOF(flags); i++) {
    const struct flag *f = &flags[i];
    char left[64];
    snprintf(left, sizeof left, "%s%s%s%s", f->name[1] ? "--" : "-", f->name, f->meta ? (f->name[1] ? "=" : " ") : "",
             f->meta ? f->meta : "");
    printf("  %-36s %s%s%s\n", left, f->help, f->alias ? (f->alias[1] ? "; alias --" : "; alias -") : "",
           f->alias ? f->alias : "");
  }
  puts("\nPIPELINES (see --list-pipelines):");
  for (int i = 0; i < tm_named_pipeline_count(); i++)
    printf("  -%-35s %s\n", tm_named_pipeline_at(i)->name, tm_named_pipeline_at(i)->summary);
  puts("\nPASSES (each also a flag: --<pass>[='<option>=<value> ...']; see --list-passes):");
  for (int i = 0; i < tm_pass_count(); i++) printf("  --%-34s %s\n", tm_pass_at(i)->arg, tm_pass_at(i)->summary);
}

static void list_passes(void) {
  puts("Available passes:");
  for (int i = 0; i < tm_pass_count(); i++) {
    const tm_pass_info *p = tm_pass_at(i);
    printf("  %-24s %s\n", p->arg, p->summary);
    for (int k = 0; k < p->noptions; k++) {
      const tm_pass_option *opt = &p->options[k];
      char left[64];
      snprintf(left, sizeof left, "%s=%s", opt->name, tm_opt_kind_name(opt->kind));
      printf("      %-28s %s (default: %s)\n", left, opt->help, opt->default_value ? opt->default_value : "none");
    }
  }
}

static void list_pipelines(void) {
  puts("Available pipelines (-<name>):");
  for (int i = 0; i < tm_named_pipeline_count(); i++) {
    const tm_named_pipeline *p = tm_named_pipeline_at(i);
    printf("  -%-23s %s\n      %s\n      (LLVM emitters: --opt-level=%s unless given)\n", p->name, p->summary, p->pipeline,
           p->llvm_level);
  }
}

static void list_ops(tm_ctx *ctx) {
  for (int i = 0; i < tm_opdef_count(ctx); i++) {
    const tm_opdef *d = tm_opdef_at(ctx, i);
    printf("  %-24s %s\n", d->name, d->summary ? d->summary : "");
  }
}

/* --emit: the backend writes -o and the header beside it. */
static int emit_code(tm_ctx *ctx, const options *o, tm_op *module) {
  tm_emit_options eo = {.path = o->output, .name = o->name, .target = o->target,
                        .opt_level = o->opt_level, .check_regions = o->check_regions};
  return tm_backend_lookup(o->emit)(ctx, module, &eo);
}

/* Parse, verify, transform and print one input chunk; returns 0 on success (with
 * --verify-diagnostics: iff the diagnostics matched the expectations). */
static int process_chunk(tm_ctx *ctx, const options *o, tm_pipeline *pipeline, const char *filename,
                         const tm_source_chunk *chunk, FILE *out, tm_timer *timer) {
  tm_diag_verifier *dv = o->verify_diags ? tm_diag_verifier_begin(ctx, filename, chunk) : NULL;
  tm_parse_options popt = {.allow_unregistered = o->allow_unregistered, .first_line = chunk->first_line};
  tm_print_flags pflags = {.locations = o->locations, .generic = o->generic};
  tm_pass_run_config run = {
      .verify_each = o->verify_each,
      .print_before_all = o->print_before_all,
      .print_after_all = o->print_after_all,
      .print_before = o->print_before,
      .print_after = o->print_after,
      .print_flags = pflags,
      .timer = timer,
  };
  tm_timer *t = timer ? tm_timer_child(timer, "Parser") : NULL;
  tm_timer_start(t);
  tm_onnx_import_options oopt = {0};
  tm_op *module = NULL;
  if (is_onnx(o)) {
    if (!o->input_shape || tm_onnx_parse_input_shapes(ctx, o->input_shape, &oopt) == 0)
      module = tm_import_onnx(ctx, filename, (const uint8_t *)chunk->text, chunk->len, &oopt);
  } else {
    module = is_tflite(o) ? tm_import_tflite(ctx, filename, (const uint8_t *)chunk->text, chunk->len, NULL)
                          : tm_parse_module(ctx, filename, chunk->text, chunk->len, &popt);
  }
  tm_timer_stop(t);
  bool ok = module != NULL;
  if (ok) {
    t = timer ? tm_timer_child(timer, "Verifier") : NULL;
    tm_timer_start(t);
    ok = tm_verify(ctx, module) == 0;
    tm_timer_stop(t);
  }
  /* the target's kernels (lower-to-loops' default target, docs/dsp.md) */
  if (ok && o->target) tm_op_set_attr(ctx, module, "tm.target", tm_attr_string(ctx, o->target, strlen(o->target)));
  ok = ok && tm_pipeline_run(pipeline, module, &run) == 0;
  if (ok && o->memory_report) tm_memory_report(ctx, module, stderr);
  if (ok && o->emit) {
    ok = emit_code(ctx, o, module) == 0;
  } else if (ok) {
    t = timer ? tm_timer_child(timer, "Output") : NULL;
    tm_timer_start(t);
    tm_print_op(ctx, module, &pflags, out);
    tm_timer_stop(t);
  }
  if (dv) return tm_diag_verifier_finish(dv);
  return ok ? 0 : -1;
}

static int run(tm_ctx *ctx, int argc, char **argv) {
  options o = {.verify_each = true};
  tm_pipeline *pipeline = tm_pipeline_new(ctx);
  if (parse_args(argc, argv, &o, pipeline)) return 1;
  if (o.help) print_help();
  if (o.version) printf("tinyml-opt version %s\n", TINYML_VERSION);
  if (o.list_passes) list_passes();
  if (o.list_pipelines) list_pipelines();
  if (o.list_ops) list_ops(ctx);
  if (o.list_targets) tm_list_targets(stdout);
  if (o.help || o.version || o.list_passes || o.list_pipelines || o.list_ops || o.list_targets) return 0;
  if (o.dump_pipeline) tm_pipeline_print(pipeline, stderr);

  tm_timer *timer = o.timing ? tm_timing_new(ctx) : NULL;
  const char *path = o.input ? o.input : "-";
  const char *filename = strcmp(path, "-") ? path : "<stdin>";
  size_t len;
  const char *text = tm_read_file(ctx, path, &len);
  if (!text) return 1;
  FILE *out = o.emit ? NULL : o.output && strcmp(o.output, "-") ? fopen(o.output, "w") : stdout;
  if (!out && !o.emit) {
    usage_error("cannot open output file '%s'", o.output);
    return 1;
  }

  tm_source_chunk whole = {.text = text, .len = len, .first_line = 1}, *chunks = &whole;
  int nchunks = o.split ? tm_split_input(ctx, text, len, &chunks) : 1;
  bool failed = nchunks < 1;
  for (int i = 0; i < nchunks; i++) {
    if (i && out) fputs("// -----\n", out);
    failed |= process_chunk(ctx, &o, pipeline, filename, &chunks[i], out, timer) != 0;
  }
  if (timer) tm_timing_print(timer, stderr);
  if (out && out != stdout) {
    failed |= fclose(out) != 0;
    if (failed) tm_remove_output(o.output);
  } else if (out) {
    failed |= fflush(stdout) != 0;
  }
  return failed ? 1 : 0;
}

int main(int argc, char **argv) {
  tm_ctx *ctx = tm_ctx_new();
  int rc = run(ctx, argc, argv);
  tm_ctx_free(ctx);
  return rc;
}
