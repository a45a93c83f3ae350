/* tinyml-run/main.c — run a model on the host through the C backend.
 *
 *   tinyml-run MODEL.tir|MODEL.tflite|MODEL.onnx --input in0.bin [--input in1.bin ...]
 *              [--output out0.bin ...] [--compare ref0.bin ...]
 *              [--pass-pipeline=...] [--keep DIR] [--cc=COMPILER]
 *
 * Imports or parses the model, lowers it (default pipeline: tinyml-opt's -O2 when tm
 * ops are left, else canonicalize,plan-memory), emits C (model.c, model.h), builds
 * it with a generated harness using the host compiler (--cc, else $TINYML_CC, else cc)
 * at -O2, runs it on the input files (raw tensor bytes), and writes the outputs.  With
 * --compare it checks output i against reference bytes: integers exactly, floats with
 * max|diff| <= 1e-5 * max|ref| + 1e-6, printing one verdict line per output; exit 1 on
 * any mismatch or error.  The work directory is temporary unless --keep names one (it
 * is kept as well when the build fails, for inspection). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/backend.h"
#include "frontend/frontend.h"
#include "passes/passes.h"

#define MAX_FILES 64

typedef struct options {
  const char *model, *pipeline, *keep, *cc, *input_shape;
  const char *inputs[MAX_FILES], *outputs[MAX_FILES], *compares[MAX_FILES];
  int ninputs, noutputs, ncompares;
  bool help;
} options;

static __attribute__((format(printf, 1, 2))) int fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("tinyml-run: error: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputs("\n", stderr);
  va_end(ap);
  return -1;
}

static const char usage[] =
    "USAGE: tinyml-run <model.tir|model.tflite|model.onnx> --input <in0.bin> [--input ...] [options]\n\n"
    "Compiles the model to C, builds it with the host compiler, runs it on the inputs.\n\n"
    "OPTIONS:\n"
    "  --input <file>            Raw bytes of the next model input (one per input, in order)\n"
    "  --output <file>           Where to write the next model output\n"
    "  --compare <file>          Reference bytes for the next output: exact for integers,\n"
    "                            max|diff| <= 1e-5*max|ref| + 1e-6 for floats; exit 1 if not\n"
    "  --pass-pipeline=<p>       Lowering pipeline (default: tinyml-opt's -O2)\n"
    "  --keep <dir>              Build in <dir> and keep model.c, model.h, main.c, the program\n"
    "  --cc <compiler>           Host C compiler (default: $TINYML_CC, else cc)\n"
    "  --input-shape <n:DxD,..>  ONNX: fix the dynamic dimensions of graph inputs\n"
    "  --help                    Print this help\n";

static int parse_args(int argc, char **argv, options *o) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-') {
      if (o->model) return fail("more than one model: '%s'", a);
      o->model = a;
      continue;
    }
    const char *name = a + (a[1] == '-' ? 2 : 1);
    size_t len = strcspn(name, "=");
    const char *value = name[len] == '=' ? name + len + 1 : NULL;
    if (len == 4 && !strncmp(name, "help", 4)) {
      o->help = true;
      continue;
    }
    static const char *const names[] = {"input", "output", "compare", "pass-pipeline", "keep", "cc", "input-shape"};
    int k = 0;
    while (k < 7 && !(strlen(names[k]) == len && !strncmp(names[k], name, len))) k++;
    if (k == 7) return fail("unknown argument '%s' (see --help)", a);
    if (!value && i + 1 >= argc) return fail("missing value for '%s'", a);
    if (!value) value = argv[++i];
    int *n = k == 0 ? &o->ninputs : k == 1 ? &o->noutputs : &o->ncompares;
    const char **list = k == 0 ? o->inputs : k == 1 ? o->outputs : o->compares;
    if (k <= 2) {
      if (*n == MAX_FILES) return fail("too many --%s files", names[k]);
      list[(*n)++] = value;
    } else {
      *(k == 3 ? &o->pipeline : k == 4 ? &o->keep : k == 5 ? &o->cc : &o->input_shape) = value;
    }
  }
  if (!o->help && !o->model) return fail("no model given (see --help)");
  return 0;
}

/* ------------------------------------------------------------------ files --------- */
static unsigned char *read_bytes(const char *path, long *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return fail("cannot open '%s': %s", path, strerror(errno)), NULL;
  unsigned char *data = NULL;
  size_t n = 0, cap = 0;
  for (;;) {
    if (n == cap) {
      cap = cap ? 2 * cap : 65536;
      unsigned char *d = realloc(data, cap);
      if (!d) break;
      data = d;
    }
    size_t got = fread(data + n, 1, cap - n, f);
    n += got;
    if (got == 0) break;
  }
  bool bad = ferror(f) || n == cap;
  fclose(f);
  if (bad || !data) {
    free(data);
    return fail("cannot read '%s'", path), NULL;
  }
  *len = (long)n;
  return data;
}

/* Runs argv[0] with argv; returns its exit status, or -1 if it could not run. */
static int run_program(char *const argv[]) {
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) return fail("cannot start '%s': %s", argv[0], strerror(errno));
  if (pid == 0) {
    execvp(argv[0], argv);
    fprintf(stderr, "tinyml-run: error: cannot run '%s': %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return fail("waiting for '%s': %s", argv[0], strerror(errno));
  if (WIFSIGNALED(status)) return fail("'%s' was killed by signal %d", argv[0], WTERMSIG(status));
  return WEXITSTATUS(status);
}

/* ------------------------------------------------------------------ harness ------- */
/* main(argc, argv): inputs then outputs as file names; arena and inputs on the heap.
 * With inputs and outputs in the arena (NAME_INPUTi_OFFSET), inputs are read into the
 * arena and passed as NULL, while outputs still go through buffers: both ways of the
 * contract run. */
static int write_harness(const char *path, const tm_model_info *mi) {
  FILE *f = fopen(path, "w");
  if (!f) return fail("cannot write '%s': %s", path, strerror(errno));
  fputs("/* generated by tinyml-run: runs model_invoke on files */\n"
        "#include <stdint.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n\n"
        "#include \"model.h\"\n\n",
        f);
  fputs("static const long in_bytes[] = {", f);
  for (int i = 0; i < mi->ninputs; i++) fprintf(f, "model_INPUT%d_BYTES, ", i);
  fputs("0};\nstatic const long out_bytes[] = {", f);
  for (int i = 0; i < mi->noutputs; i++) fprintf(f, "model_OUTPUT%d_BYTES, ", i);
  fputs("0};\nstatic const long in_offsets[] = {", f);
  for (int i = 0; i < mi->ninputs; i++) fprintf(f, "%s%d%s, ", mi->io_in_arena ? "model_INPUT" : "", mi->io_in_arena ? i : -1,
                                                mi->io_in_arena ? "_OFFSET" : "");
  fputs("0};\n\n", f);
  fputs("int main(int argc, char **argv) {\n"
        "  const void *inputs[model_NUM_INPUTS + 1];\n"
        "  void *outputs[model_NUM_OUTPUTS + 1];\n"
        "  int i;\n"
        "  /* 16-byte aligned, and not zero: the model must not rely on fresh memory */\n"
        "  unsigned char *raw = malloc(model_ARENA_BYTES + 16);\n"
        "  unsigned char *arena = raw + ((16 - (uintptr_t)raw % 16) % 16);\n"
        "  if (argc != 1 + model_NUM_INPUTS + model_NUM_OUTPUTS || !raw) return 2;\n"
        "  memset(arena, 0xA5, model_ARENA_BYTES);\n"
        "  for (i = 0; i < model_NUM_INPUTS; i++) {\n"
        "    FILE *f = fopen(argv[1 + i], \"rb\");\n"
        "    void *buf = in_offsets[i] >= 0 ? arena + in_offsets[i] : malloc(in_bytes[i] + 1);\n"
        "    if (!f || !buf || fread(buf, 1, in_bytes[i], f) != (size_t)in_bytes[i]) return 3;\n"
        "    fclose(f);\n"
        "    inputs[i] = in_offsets[i] >= 0 ? NULL : buf;\n"
        "  }\n"
        "  for (i = 0; i < model_NUM_OUTPUTS; i++) {\n"
        "    outputs[i] = malloc(out_bytes[i] + 1);\n"
        "    if (!outputs[i]) return 2;\n"
        "    memset(outputs[i], 0x5A, out_bytes[i]);\n"
        "  }\n"
        "  if (model_invoke(arena, inputs, outputs) != 0) return 4;\n"
        "  for (i = 0; i < model_NUM_OUTPUTS; i++) {\n"
        "    FILE *f = fopen(argv[1 + model_NUM_INPUTS + i], \"wb\");\n"
        "    if (!f || fwrite(outputs[i], 1, out_bytes[i], f) != (size_t)out_bytes[i] || fclose(f)) return 5;\n"
        "  }\n"
        "  return 0;\n"
        "}\n",
        f);
  if (ferror(f) | fclose(f)) return fail("cannot write '%s'", path);
  return 0;
}

/* ------------------------------------------------------------------ compare ------- */
static double element(const unsigned char *p, const tm_type *e, long i) {
  unsigned bytes = e->width / 8;
  uint64_t bits = 0;
  for (unsigned b = 0; b < bytes; b++) bits |= (uint64_t)p[i * bytes + b] << (8 * b);
  if (e->kind == TM_TYPE_FLOAT && e->width == 32) {
    float f;
    uint32_t u = (uint32_t)bits;
    memcpy(&f, &u, sizeof f);
    return f;
  }
  if (e->kind == TM_TYPE_FLOAT) {
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
  }
  if (e->signedness != TM_UNSIGNED && bytes < 8 && (bits >> (8 * bytes - 1)) & 1) bits |= ~(uint64_t)0 << (8 * bytes);
  return e->signedness == TM_UNSIGNED ? (double)bits : (double)(int64_t)bits;
}

/* One verdict line; returns 0 if the output matches. */
static int compare(int index, const tm_model_io *io, const unsigned char *got, const unsigned char *ref, long n) {
  const tm_type *e = io->type->elem;
  bool is_float = e->kind == TM_TYPE_FLOAT;
  long count = e->width >= 8 ? n / (e->width / 8) : n;
  if (is_float && (e->width == 32 || e->width == 64)) {
    double max_ref = 0, max_diff = 0;
    long worst = 0;
    for (long i = 0; i < count; i++) {
      double r = element(ref, e, i), d = fabs(element(got, e, i) - r);
      if (fabs(r) > max_ref) max_ref = fabs(r);
      if (d > max_diff || d != d) max_diff = d, worst = i;
    }
    double bound = 1e-5 * max_ref + 1e-6;
    bool ok = max_diff <= bound;
    printf(" output %d %s: %ld floats, max |diff| %.3g %s %.3g", index, ok ? "matches" : "MISMATCH",
           count, max_diff, ok ? "<=" : ">", bound);
    if (!ok) printf(" (element %ld: got %.9g, expected %.9g)", worst, element(got, e, worst), element(ref, e, worst));
    printf("\n");
    return ok ? 0 : -1;
  }
  long differ = 0, first = -1;
  for (long i = 0; i < count; i++)
    if (element(got, e, i) != element(ref, e, i)) differ++, first = first < 0 ? i : first;
  if (!differ) {
    printf(" output %d matches: %ld bytes, exact\n", index, n);
    return 0;
  }
  printf(" output %d MISMATCH: %ld of %ld elements differ, first at %ld: got %.0f, expected %.0f\n", index,
         differ, count, first, element(got, e, first), element(ref, e, first));
  return -1;
}

/* ------------------------------------------------------------------ pipeline ------ */
static bool has_tm_op(tm_op *op, void *user) {
  (void)user;
  return strncmp(op->name, "tm.", 3) != 0;
}

/* A function lower-to-loops produced (it marks them); graphs of no ops have none. */
static bool has_lowered_func(tm_op *op, void *user) {
  (void)user;
  return !(tm_op_is(op, "func.func") && tm_op_attr(op, "tm.num_inputs"));
}

/* .tflite and .onnx models are imported, anything else parsed as IR. */
static tm_op *load_model(tm_ctx *ctx, const char *path, const char *input_shape) {
  size_t n, len = strlen(path);
  const char *text = tm_read_file(ctx, path, &n);
  if (!text) return NULL;
  tm_op *module;
  if (len > 7 && !strcmp(path + len - 7, ".tflite")) {
    module = tm_import_tflite(ctx, path, (const uint8_t *)text, n, NULL);
  } else if (len > 5 && !strcmp(path + len - 5, ".onnx")) {
    tm_onnx_import_options oopt = {0};
    if (input_shape && tm_onnx_parse_input_shapes(ctx, input_shape, &oopt)) return NULL;
    module = tm_import_onnx(ctx, path, (const uint8_t *)text, n, &oopt);
  } else {
    tm_parse_options popt = {0};
    module = tm_parse_module(ctx, path, text, n, &popt);
  }
  return module && tm_verify(ctx, module) == 0 ? module : NULL;
}

static int lower(tm_ctx *ctx, tm_op *module, const char *pipeline_text) {
  tm_pipeline *p = tm_pipeline_new(ctx);
  const char *text = pipeline_text;
  if (!text) {
    bool graph = !tm_op_walk(module, has_tm_op, NULL) || tm_op_walk(module, has_lowered_func, NULL);
    text = graph ? tm_named_pipeline_lookup("O2", 2)->pipeline : "canonicalize,plan-memory";
  }
  if (tm_pipeline_parse(p, text, "<pass-pipeline>")) return -1;
  tm_pass_run_config cfg = {.verify_each = true};
  return tm_pipeline_run(p, module, &cfg);
}

/* ------------------------------------------------------------------ main ---------- */
typedef struct workdir {
  const char *path;
  bool keep;
  const char *files[MAX_FILES + 8]; /* created here, removed at the end */
  int nfiles;
} workdir;

static const char *work_file(tm_ctx *ctx, workdir *w, const char *name) {
  const char *p = tm_arena_printf(ctx, "%s/%s", w->path, name);
  if (w->nfiles < (int)TM_COUNTOF(w->files)) w->files[w->nfiles++] = p;
  return p;
}

static void cleanup(workdir *w) {
  if (w->keep || !w->path) return;
  for (int i = 0; i < w->nfiles; i++) remove(w->files[i]);
  rmdir(w->path);
}

/* Inputs come NUM_INPUTS at a time, one group per run; outputs and references likewise
 * NUM_OUTPUTS at a time.  Returns the number of runs, or -1. */
static int check_files(tm_ctx *ctx, const options *o, const tm_model_info *mi) {
  int k = mi->ninputs, m = mi->noutputs;
  int runs = k ? o->ninputs / k : 1;
  if (k ? o->ninputs % k || !runs : o->ninputs)
    return fail("the model has %d inputs, but %d --input given (a multiple of %d runs it that many times)", k,
                o->ninputs, k);
  if (o->noutputs > runs * m || o->ncompares > runs * m)
    return fail("%d runs of a model with %d outputs, but %d --output and %d --compare given", runs, m, o->noutputs,
                o->ncompares);
  for (int i = 0; i < o->ninputs; i++) {
    struct stat st;
    const tm_model_io *in = &mi->inputs[i % k];
    if (stat(o->inputs[i], &st)) return fail("cannot open '%s': %s", o->inputs[i], strerror(errno));
    if (st.st_size != in->bytes)
      return fail("'%s' has %lld bytes, but input %d (%s) takes %lld", o->inputs[i], (long long)st.st_size, i % k,
                  tm_type_str(ctx, in->type), (long long)in->bytes);
  }
  return runs;
}

/* model.c, model.h and the harness in the work directory, built into model-run. */
static const char *build(tm_ctx *ctx, const options *o, workdir *w, tm_op *module, const tm_model_info *mi) {
  if (o->keep) {
    if (mkdir(o->keep, 0777) && errno != EEXIST) return fail("cannot create '%s': %s", o->keep, strerror(errno)), NULL;
    w->path = o->keep;
    w->keep = true;
  } else {
    const char *tmp = getenv("TMPDIR");
    char *templ = tm_arena_printf(ctx, "%s/tinyml-run-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(templ)) return fail("cannot create a temporary directory: %s", strerror(errno)), NULL;
    w->path = templ;
  }
  work_file(ctx, w, "model.h"); /* the backend writes it beside model.c */
  const char *csrc = work_file(ctx, w, "model.c");
  tm_emit_options eo = {.path = csrc, .name = "model"};
  if (tm_emit_c(ctx, module, &eo)) return NULL;
  const char *harness = work_file(ctx, w, "main.c"), *exe = work_file(ctx, w, "model-run");
  if (write_harness(harness, mi)) return NULL;
  const char *env = getenv("TINYML_CC"), *cc = o->cc ? o->cc : env && *env ? env : "cc";
  char *argv[] = {(char *)cc, "-std=c99", "-O2", "-o", (char *)exe, (char *)csrc, (char *)harness, "-lm", NULL};
  int rc = run_program(argv);
  if (rc == 0) return exe;
  w->keep = true;
  if (rc > 0) fail("'%s' failed to build the model (exit %d); the sources are in %s", cc, rc, w->path);
  return NULL;
}

/* Compares run `run`'s output files with their references: one verdict line each.
 * Returns the number of mismatches. */
static int check_outputs(const options *o, const tm_model_info *mi, int run, int runs, const char *const *outs) {
  int mismatches = 0;
  for (int i = 0; i < mi->noutputs && run * mi->noutputs + i < o->ncompares; i++) {
    const char *reference = o->compares[run * mi->noutputs + i];
    long ngot = 0, nref = 0;
    unsigned char *got = read_bytes(outs[i], &ngot), *ref = got ? read_bytes(reference, &nref) : NULL;
    if (runs > 1) printf("tinyml-run: run %d:", run);
    else printf("tinyml-run:");
    if (!got || !ref) {
      printf(" output %d not compared\n", i);
      mismatches++;
    } else if (nref != ngot) {
      printf(" output %d MISMATCH: %ld bytes, but '%s' has %ld\n", i, ngot, reference, nref);
      mismatches++;
    } else {
      mismatches += compare(i, &mi->outputs[i], got, ref, ngot) != 0;
    }
    free(got);
    free(ref);
  }
  return mismatches;
}

static int run(tm_ctx *ctx, const options *o, workdir *w) {
  tm_op *module = load_model(ctx, o->model, o->input_shape);
  if (!module || lower(ctx, module, o->pipeline)) return -1;
  tm_model_info mi;
  if (tm_model_info_get(ctx, module, &mi)) return -1;
  int runs = check_files(ctx, o, &mi);
  const char *exe = runs < 0 ? NULL : build(ctx, o, w, module, &mi);
  if (!exe) return -1;
  int k = mi.ninputs, m = mi.noutputs, mismatches = 0;
  char **args = TM_NEW_ARRAY(tm_ctx_arena(ctx), char *, 2 + k + m);
  const char **outs = TM_NEW_ARRAY(tm_ctx_arena(ctx), const char *, m + 1);
  const char **scratch = TM_NEW_ARRAY(tm_ctx_arena(ctx), const char *, m + 1); /* outputs nobody asked for */
  args[0] = (char *)exe;
  for (int r = 0; r < runs; r++) {
    for (int i = 0; i < k; i++) args[1 + i] = (char *)o->inputs[r * k + i];
    for (int i = 0; i < m; i++) {
      if (r * m + i < o->noutputs) outs[i] = o->outputs[r * m + i];
      else outs[i] = scratch[i] ? scratch[i] : (scratch[i] = work_file(ctx, w, tm_arena_printf(ctx, "out%d.bin", i)));
      args[1 + k + i] = (char *)outs[i];
    }
    int rc = run_program(args);
    if (rc != 0) return rc < 0 ? -1 : fail("the compiled model failed (exit %d)", rc);
    mismatches += check_outputs(o, &mi, r, runs, outs);
  }
  return mismatches ? -1 : 0;
}

int main(int argc, char **argv) {
  options o = {0};
  if (parse_args(argc, argv, &o)) return 1;
  if (o.help) {
    fputs(usage, stdout);
    return 0;
  }
  tm_ctx *ctx = tm_ctx_new();
  workdir w = {0};
  int rc = run(ctx, &o, &w);
  cleanup(&w);
  tm_ctx_free(ctx);
  fflush(stdout);
  return rc ? 1 : 0;
}
