/* backends/backend.c — what every backend shares: the registry of --emit names, the
 * model function's interface and the NAME.h header (the contract in backend.h). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "backends/backend.h"

static const struct backend {
  const char *name;
  tm_emit_fn emit;
} backends[] = {
    {"c", tm_emit_c},     {"llvm", tm_emit_llvm_ir}, {"bc", tm_emit_llvm_bc},
    {"asm", tm_emit_llvm_asm}, {"obj", tm_emit_llvm_obj}, {"lib", tm_emit_llvm_lib},
};

tm_emit_fn tm_backend_lookup(const char *name) {
  for (size_t i = 0; name && i < TM_COUNTOF(backends); i++)
    if (!strcmp(backends[i].name, name)) return backends[i].emit;
  return NULL;
}

bool tm_is_c_identifier(const char *s) {
  if (!s || !*s || strlen(s) > 64 || (*s >= '0' && *s <= '9')) return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_')) return false;
  return true;
}

const char *tm_header_path(tm_ctx *ctx, const char *path) {
  const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
  size_t stem = dot && (!slash || dot > slash + 1) ? (size_t)(dot - path) : strlen(path);
  return tm_arena_printf(ctx, "%.*s.h", (int)stem, path);
}

void tm_remove_output(const char *path) {
  struct stat st;
  if (!stat(path, &st) && S_ISREG(st.st_mode)) remove(path);
}

/* ------------------------------------------------------------- model interface ---- */
static bool find_alloc(tm_op *op, void *user) {
  if (!tm_op_is(op, "memref.alloc")) return true;
  *(tm_op **)user = op;
  return false;
}

/* names[i] of a string array attribute, or NULL */
static const char *name_at(const tm_attr *names, int i) {
  if (!names || names->kind != TM_ATTR_ARRAY || i >= names->u.array.n) return NULL;
  const tm_attr *s = names->u.array.elts[i];
  return s->kind == TM_ATTR_STRING ? s->u.str.data : NULL;
}

static int describe_io(tm_ctx *ctx, tm_op *func, tm_value *arg, const char *what, int i, const tm_attr *names,
                       tm_model_io *io) {
  const tm_type *t = arg->type;
  if (t->kind != TM_TYPE_MEMREF || !tm_type_is_static(t) || tm_type_bytes(t) < 0)
    return tm_op_error(ctx, func, "%s %d of the model function must be a static memref, but got '%s'", what, i,
                       tm_type_str(ctx, t));
  io->name = name_at(names, i);
  io->type = t;
  io->bytes = tm_type_bytes(t);
  return 0;
}

/* Offsets of the inputs or outputs in the arena: all of them, each inside it, aligned
 * to 16 bytes (the arena's alignment, enough for any element type). */
static int io_offsets(tm_ctx *ctx, tm_op *func, const tm_attr *offs, const char *attr, const tm_model_info *mi,
                      tm_model_io *io, int n) {
  for (int i = 0; i < n; i++) io[i].offset = -1;
  if (!mi->io_in_arena) return 0;
  if (!offs || offs->kind != TM_ATTR_ARRAY || offs->u.array.n != n || !mi->has_arena)
    return tm_op_error(ctx, func, "%s must be an array of %d offsets in the arena (with tm.arena_bytes)", attr, n);
  for (int i = 0; i < n; i++) {
    const tm_attr *a = offs->u.array.elts[i];
    if (a->kind != TM_ATTR_INT || a->u.i < 0 || a->u.i % 16 || a->u.i > mi->arena_bytes - io[i].bytes)
      return tm_op_error(ctx, func, "%s[%d] is not a 16-byte aligned offset of %lld bytes inside the %lld-byte arena",
                         attr, i, (long long)io[i].bytes, (long long)mi->arena_bytes);
    io[i].offset = a->u.i;
  }
  return 0;
}

int tm_model_info_get(tm_ctx *ctx, tm_op *module, tm_model_info *out) {
  memset(out, 0, sizeof *out);
  tm_op *func = NULL;
  TM_FOREACH_OP(op, tm_module_body(module)) {
    if (!tm_op_is(op, "func.func") || !tm_op_attr(op, "tm.num_inputs")) continue;
    if (func) return tm_op_error(ctx, op, "more than one model function (func.func with tm.num_inputs)");
    func = op;
  }
  if (!func)
    return tm_op_error(ctx, module,
                       "no model function: expected a func.func with a tm.num_inputs attribute (run lower-to-loops)");
  tm_block *entry = tm_func_entry(func);
  const tm_type *ft = tm_func_type(func);
  if (!entry || !ft) return tm_op_error(ctx, func, "the model function has no body");
  if (ft->nresults) return tm_op_error(ctx, func, "the model function must return its outputs through out-params");
  tm_op *alloc = NULL;
  if (!tm_op_walk(func, find_alloc, &alloc))
    return tm_op_error(ctx, alloc, "memref.alloc is not planned: run plan-memory first");

  const tm_attr *arena = tm_op_attr(func, "tm.arena_bytes");
  out->func = func;
  out->has_arena = arena != NULL;
  int first = out->has_arena;
  if (arena) {
    const tm_type *t = entry->nargs ? entry->args[0]->type : NULL;
    if (arena->kind != TM_ATTR_INT || arena->u.i < 0)
      return tm_op_error(ctx, func, "tm.arena_bytes must be a non-negative integer");
    if (!t || t->kind != TM_TYPE_MEMREF || t->rank != 1 || t->dims[0] != arena->u.i || t->elem->kind != TM_TYPE_INT ||
        t->elem->width != 8)
      return tm_op_error(ctx, func, "with tm.arena_bytes = %lld the first argument must be a memref<%lldxi8>",
                         (long long)arena->u.i, (long long)arena->u.i);
    out->arena_bytes = arena->u.i;
  }
  int64_t k = tm_op_attr_int(func, "tm.num_inputs", -1);
  if (k < 0 || k > entry->nargs - first)
    return tm_op_error(ctx, func, "tm.num_inputs = %lld does not fit the %d buffer arguments", (long long)k,
                       entry->nargs - first);
  out->ninputs = (int)k;
  out->noutputs = entry->nargs - first - (int)k;
  out->inputs = TM_NEW_ARRAY(tm_ctx_arena(ctx), tm_model_io, out->ninputs + 1);
  out->outputs = TM_NEW_ARRAY(tm_ctx_arena(ctx), tm_model_io, out->noutputs + 1);
  const tm_attr *in_names = tm_op_attr(func, "tm.input_names"), *out_names = tm_op_attr(func, "tm.output_names");
  for (int i = 0; i < out->ninputs; i++)
    if (describe_io(ctx, func, entry->args[first + i], "input", i, in_names, &out->inputs[i])) return -1;
  for (int i = 0; i < out->noutputs; i++)
    if (describe_io(ctx, func, entry->args[first + out->ninputs + i], "output", i, out_names, &out->outputs[i]))
      return -1;
  const tm_attr *in_offs = tm_op_attr(func, "tm.input_offsets"), *out_offs = tm_op_attr(func, "tm.output_offsets");
  out->io_in_arena = in_offs || out_offs;
  if (io_offsets(ctx, func, in_offs, "tm.input_offsets", out, out->inputs, out->ninputs) ||
      io_offsets(ctx, func, out_offs, "tm.output_offsets", out, out->outputs, out->noutputs))
    return -1;
  return 0;
}

/* ------------------------------------------------------------------- header ------- */
/* Text safe inside a C comment: no comment ends, trigraphs or line splices. */
static void put_comment_text(FILE *f, const char *s) {
  for (; *s; s++) {
    char c = *s;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr(" _-.:,;<>()[]", c);
    fputc(ok ? c : '_', f);
  }
}

static void put_define(FILE *f, const char *name, const char *suffix, long long value) {
  char macro[96];
  snprintf(macro, sizeof macro, "%s_%s", name, suffix);
  fprintf(f, "#define %-*s %lld", (int)strlen(name) + 14, macro, value);
}

static void put_io_define(tm_ctx *ctx, FILE *f, const char *name, const char *what, int i, const tm_model_io *io) {
  char suffix[32];
  snprintf(suffix, sizeof suffix, "%s%d_BYTES", what, i);
  put_define(f, name, suffix, (long long)io->bytes);
  fputs(" /* ", f);
  if (io->name) {
    fputc('"', f);
    put_comment_text(f, io->name);
    fputs("\" ", f);
  }
  put_comment_text(f, tm_type_str(ctx, io->type));
  fputs(" */\n", f);
}

void tm_write_header(tm_ctx *ctx, const tm_model_info *mi, const char *name, const char *backend, void *stdio_file) {
  FILE *f = stdio_file;
  fprintf(f, "/* %s.h: generated by tinyml (%s backend), do not edit.\n *\n", name, backend);
  fprintf(f, " * %s_invoke(arena, inputs, outputs) runs the model: arena is %s_ARENA_BYTES of\n", name, name);
  fprintf(f, " * 16-byte aligned scratch, inputs[i] and outputs[i] point to %s_INPUTi_BYTES and\n", name);
  fprintf(f, " * %s_OUTPUTi_BYTES of tensor data (row-major, storage type).  It returns 0, or -1\n", name);
  fprintf(f, " * if a pointer is NULL or the arena is misaligned.");
  if (mi->io_in_arena)
    fprintf(f, "\n *\n * Inputs and outputs live in the arena at %s_INPUTi_OFFSET and %s_OUTPUTi_OFFSET:\n"
               " * a NULL inputs/outputs array or entry means the data is already there (inputs are\n"
               " * clobbered by the run); other pointers are copied in before and out after it.",
            name, name);
  fprintf(f, " */\n");
  fprintf(f, "#ifndef TINYML_%s_H\n#define TINYML_%s_H\n\n", name, name);
  fprintf(f, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
  put_define(f, name, "ARENA_BYTES", (long long)mi->arena_bytes);
  fputs(" /* scratch the caller provides, 16-byte aligned */\n", f);
  put_define(f, name, "NUM_INPUTS", mi->ninputs);
  fputc('\n', f);
  put_define(f, name, "NUM_OUTPUTS", mi->noutputs);
  fputc('\n', f);
  for (int i = 0; i < mi->ninputs; i++) put_io_define(ctx, f, name, "INPUT", i, &mi->inputs[i]);
  for (int i = 0; i < mi->noutputs; i++) put_io_define(ctx, f, name, "OUTPUT", i, &mi->outputs[i]);
  for (int k = 0; k < 2 && mi->io_in_arena; k++) {
    const tm_model_io *io = k ? mi->outputs : mi->inputs;
    for (int i = 0; i < (k ? mi->noutputs : mi->ninputs); i++) {
      char suffix[32];
      snprintf(suffix, sizeof suffix, "%s%d_OFFSET", k ? "OUTPUT" : "INPUT", i);
      put_define(f, name, suffix, (long long)io[i].offset);
      fputs(k ? " /* read it here after the run */\n" : " /* or write it here and pass NULL */\n", f);
    }
  }
  fprintf(f, "\nint %s_invoke(void *arena, const void *const inputs[], void *const outputs[]);\n", name);
  fprintf(f, "\n#ifdef __cplusplus\n}\n#endif\n\n#endif /* TINYML_%s_H */\n", name);
}
