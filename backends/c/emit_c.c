/* backends/c/emit_c.c — the C backend: a planned lowered module to NAME.c + NAME.h.
 *
 * Every SSA value becomes a C local (scalar constants are inlined as literals), memrefs
 * become typed pointers indexed row-major with strides from the static shape, scf.for /
 * scf.if / scf.while become C loops and branches whose results (and loop-carried values)
 * are locals declared before them, func.call of the module's private helpers calls
 * static inline functions.  Globals become static arrays, constant ones `static const`
 * (flash on a microcontroller).  The output is C99 that gcc and clang accept with
 * -std=c99 -Wall -Wextra -Werror -pedantic, needs only <stdint.h>, <stddef.h>,
 * <string.h> (and <math.h> when float math is used), and no heap or stdio.
 *
 * Integer semantics follow MLIR's arith dialect exactly: signless iN values are held in
 * intN_t, wrapping ops compute in unsigned arithmetic, arith.shrsi uses a portable
 * arithmetic shift, narrowing casts go through the unsigned type.  Index values are
 * ptrdiff_t with plain C arithmetic (loop and address arithmetic of static shapes,
 * which cannot overflow: buffers are checked to stay below 2^31 elements). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "backends/backend.h"

#define MAX_NESTING 256
#define MAX_ELEMS ((int64_t)1 << 31)

/* ------------------------------------------------------------ text buffer --------- */
/* Grows in the context's arena (the old copy is abandoned): the whole file is built
 * before anything is written, so a failed emission leaves no file behind. */
typedef struct cbuf {
  char *data;
  size_t len, cap;
} cbuf;

static __attribute__((format(printf, 3, 4))) void cb_printf(tm_ctx *ctx, cbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(b->data ? b->data + b->len : NULL, b->data ? b->cap - b->len : 0, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (!b->data || b->len + (size_t)n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + (size_t)n + 1) cap *= 2;
    char *d = tm_arena_alloc(tm_ctx_arena(ctx), cap, 1);
    if (b->len) memcpy(d, b->data, b->len);
    b->data = d;
    b->cap = cap;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
  }
  b->len += (size_t)n;
}

/* ------------------------------------------------------------------ C types ------- */
typedef struct ctype {
  const char *st; /* the C type values are held in */
  const char *ut; /* same width, unsigned */
  const char *wt; /* unsigned type arithmetic on the value happens in (no promotion to int) */
  unsigned width;
  bool is_index, is_float, is_i1;
} ctype;

static bool ctype_of(const tm_type *t, ctype *c) {
  memset(c, 0, sizeof *c);
  if (!t) return false;
  if (t->kind == TM_TYPE_INDEX) {
    *c = (ctype){"ptrdiff_t", "size_t", "size_t", 64, true, false, false};
    return true;
  }
  if (t->kind == TM_TYPE_FLOAT && (t->width == 32 || t->width == 64)) {
    *c = (ctype){t->width == 32 ? "float" : "double", NULL, NULL, t->width, false, true, false};
    return true;
  }
  if (t->kind != TM_TYPE_INT) return false;
  bool u = t->signedness == TM_UNSIGNED;
  switch (t->width) {
  case 1: *c = (ctype){"uint8_t", "uint8_t", "unsigned", 1, false, false, true}; return true;
  case 8: *c = (ctype){u ? "uint8_t" : "int8_t", "uint8_t", "uint32_t", 8, false, false, false}; return true;
  case 16: *c = (ctype){u ? "uint16_t" : "int16_t", "uint16_t", "uint32_t", 16, false, false, false}; return true;
  case 32: *c = (ctype){u ? "uint32_t" : "int32_t", "uint32_t", "uint32_t", 32, false, false, false}; return true;
  case 64: *c = (ctype){u ? "uint64_t" : "int64_t", "uint64_t", "uint64_t", 64, false, false, false}; return true;
  default: return false;
  }
}

/* ------------------------------------------------------------ prelude helpers ----- */
/* Static inline functions the generated code calls, emitted only when used. */
typedef enum {
  H_SRA32, H_SRA64, H_MAXF, H_MINF, H_MAXD, H_MIND, H_F32_BITS, H_BITS_F32, H_F64_BITS, H_BITS_F64, H_ALIGNED,
  H_SXTB16, H_SMLAD, H_USADA8, H_LOAD_WORD, H_LOAD_PAIR, H_VMLADAVA, H_COUNT
} helper_id;

static const struct helper {
  bool math; /* needs <math.h> */
  const char *text;
} helpers[H_COUNT] = {
    [H_SRA32] = {false, "/* arith.shrsi: C leaves >> of a negative value implementation-defined. */\n"
                        "static inline int32_t tm_sra32(int32_t a, int32_t b) { return a < 0 ? ~(~a >> b) : a >> b; }\n"},
    [H_SRA64] = {false, "/* arith.shrsi: C leaves >> of a negative value implementation-defined. */\n"
                        "static inline int64_t tm_sra64(int64_t a, int64_t b) { return a < 0 ? ~(~a >> b) : a >> b; }\n"},
    [H_MAXF] = {true, "/* arith.maximumf (IEEE 754-2019 maximum): NaN if either is NaN, and +0 > -0. */\n"
                      "static inline float tm_maximumf(float a, float b) {\n"
                      "  if (a != a || b != b) return a + b;\n"
                      "  if (a == b) return signbit(a) ? b : a;\n"
                      "  return a > b ? a : b;\n}\n"},
    [H_MINF] = {true, "/* arith.minimumf (IEEE 754-2019 minimum): NaN if either is NaN, and -0 < +0. */\n"
                      "static inline float tm_minimumf(float a, float b) {\n"
                      "  if (a != a || b != b) return a + b;\n"
                      "  if (a == b) return signbit(a) ? a : b;\n"
                      "  return a < b ? a : b;\n}\n"},
    [H_MAXD] = {true, "/* arith.maximumf (IEEE 754-2019 maximum): NaN if either is NaN, and +0 > -0. */\n"
                      "static inline double tm_maximum(double a, double b) {\n"
                      "  if (a != a || b != b) return a + b;\n"
                      "  if (a == b) return signbit(a) ? b : a;\n"
                      "  return a > b ? a : b;\n}\n"},
    [H_MIND] = {true, "/* arith.minimumf (IEEE 754-2019 minimum): NaN if either is NaN, and -0 < +0. */\n"
                      "static inline double tm_minimum(double a, double b) {\n"
                      "  if (a != a || b != b) return a + b;\n"
                      "  if (a == b) return signbit(a) ? a : b;\n"
                      "  return a < b ? a : b;\n}\n"},
    [H_F32_BITS] = {false, "static inline float tm_f32_from_bits(int32_t x) { float f; memcpy(&f, &x, sizeof f); return f; }\n"},
    [H_BITS_F32] = {false, "static inline int32_t tm_bits_from_f32(float f) { int32_t x; memcpy(&x, &f, sizeof x); return x; }\n"},
    [H_F64_BITS] = {false, "static inline double tm_f64_from_bits(int64_t x) { double f; memcpy(&f, &x, sizeof f); return f; }\n"},
    [H_BITS_F64] = {false, "static inline int64_t tm_bits_from_f64(double f) { int64_t x; memcpy(&x, &f, sizeof x); return x; }\n"},
    [H_ALIGNED] = {false, "/* Alignment beyond the natural one only helps (SIMD loads); C99 cannot ask for it. */\n"
                          "#if defined(__GNUC__)\n#define TM_ALIGNED(n) __attribute__((aligned(n)))\n#else\n"
                          "#define TM_ALIGNED(n)\n#endif\n"},
    /* armdsp (docs/dsp.md): the Arm instructions' results in portable C; ACLE's intrinsics
     * where the compiler targets a core that has them */
    [H_SXTB16] = {false, "/* armdsp.sxtb16 (SXTB16): bytes 0 and 2 of x sign-extended into its two 16-bit halves. */\n"
                         "#if defined(__ARM_FEATURE_SIMD32)\n#include <arm_acle.h>\n"
                         "static inline int32_t tm_sxtb16(uint32_t x) { return (int32_t)__sxtb16((int32_t)x); }\n"
                         "#else\nstatic inline int32_t tm_sxtb16(uint32_t x) {\n"
                         "  return (int32_t)((uint32_t)(uint16_t)(int8_t)(uint8_t)x | "
                         "(uint32_t)(uint16_t)(int8_t)(uint8_t)(x >> 16) << 16);\n}\n#endif\n"},
    [H_SMLAD] = {false, "/* armdsp.smlad (SMLAD): acc + lo(a) * lo(b) + hi(a) * hi(b) on signed halves, modulo 2^32. */\n"
                        "#if defined(__ARM_FEATURE_SIMD32)\n#include <arm_acle.h>\n"
                        "static inline int32_t tm_smlad(uint32_t a, uint32_t b, uint32_t acc) {\n"
                        "  return __smlad((int32_t)a, (int32_t)b, (int32_t)acc);\n}\n"
                        "#else\nstatic inline int32_t tm_smlad(uint32_t a, uint32_t b, uint32_t acc) {\n"
                        "  int32_t lo = (int16_t)(uint16_t)a * (int16_t)(uint16_t)b;\n"
                        "  int32_t hi = (int16_t)(uint16_t)(a >> 16) * (int16_t)(uint16_t)(b >> 16);\n"
                        "  return (int32_t)(acc + (uint32_t)lo + (uint32_t)hi);\n}\n#endif\n"},
    [H_USADA8] = {false, "/* armdsp.usada8 (USADA8): acc + the sum of |a_i - b_i| over the unsigned bytes, modulo 2^32. */\n"
                         "#if defined(__ARM_FEATURE_SIMD32)\n#include <arm_acle.h>\n"
                         "static inline int32_t tm_usada8(uint32_t a, uint32_t b, uint32_t acc) {\n"
                         "  return (int32_t)__usada8(a, b, acc);\n}\n"
                         "#else\nstatic inline int32_t tm_usada8(uint32_t a, uint32_t b, uint32_t acc) {\n"
                         "  for (int i = 0; i < 32; i += 8) {\n"
                         "    uint32_t x = a >> i & 255, y = b >> i & 255;\n"
                         "    acc += x > y ? x - y : y - x;\n  }\n"
                         "  return (int32_t)acc;\n}\n#endif\n"},
    [H_LOAD_WORD] = {false, "/* armdsp.load_word: four bytes as a little-endian word, from any address. */\n"
                            "static inline int32_t tm_load_word(const int8_t *p) {\n"
                            "  return (int32_t)((uint32_t)(uint8_t)p[0] | (uint32_t)(uint8_t)p[1] << 8 | "
                            "(uint32_t)(uint8_t)p[2] << 16 | (uint32_t)(uint8_t)p[3] << 24);\n}\n"},
    [H_LOAD_PAIR] = {false, "/* armdsp.load_pair: an 8-byte element through memcpy, so that words stored as int32_t "
                            "may be read as one int64_t. */\n"
                            "static inline int64_t tm_load_pair(const void *p) { int64_t v; memcpy(&v, p, sizeof v); "
                            "return v; }\n"},
    [H_VMLADAVA] = {false, "/* armdsp.vmladava (MVE VMLADAVA.S8): acc + the sum of n signed byte products, modulo 2^32. */\n"
                           "static inline int32_t tm_vmladava(uint32_t acc, const int8_t *a, const int8_t *b, int n) {\n"
                           "  for (int j = 0; j < n; j++) acc += (uint32_t)(a[j] * b[j]);\n"
                           "  return (int32_t)acc;\n}\n"},
};

/* ------------------------------------------------------------------ emitter ------- */
typedef struct vinfo {
  const char *expr; /* C name or literal */
  bool is_lit;      /* an integer or index literal ... */
  int64_t lit;      /* ... of this value */
  bool const_ptr;   /* a memref that must not be written (constant global, model input) */
} vinfo;

typedef struct symbol {
  tm_op *op;         /* memref.global or func.func */
  const char *cname;
  bool used, emitted;
} symbol;

typedef struct emitter {
  tm_ctx *ctx;
  tm_op *module;
  const char *name;
  cbuf body; /* function definitions */
  cbuf *out;
  int indent, depth, next_id;
  bool need[H_COUNT], math, string;
  tm_ptrmap vals;     /* tm_value -> vinfo */
  tm_ptrmap dead;     /* ops whose results nobody needs */
  tm_ptrmap syms;     /* op -> symbol */
  symbol **symlist;
  int nsyms;
  const char *last_label; /* the location comment last written */
  bool unbound;           /* a value was used that has no C expression */
} emitter;

#define OUT(e, ...) cb_printf((e)->ctx, (e)->out, __VA_ARGS__)

static void line(emitter *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line(emitter *e, const char *fmt, ...) {
  char small[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  const char *text = small;
  if (n >= (int)sizeof small) {
    char *big = tm_arena_alloc(tm_ctx_arena(e->ctx), (size_t)n + 1, 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    text = big;
  }
  OUT(e, "%*s%s\n", 2 * e->indent, "", text);
}

#define S(...) tm_arena_printf(e->ctx, __VA_ARGS__)

static void use_helper(emitter *e, helper_id h) {
  e->need[h] = true;
  e->math |= helpers[h].math;
}

static vinfo *info(emitter *e, const tm_value *v) { return tm_ptrmap_get(&e->vals, v); }

static vinfo *bind(emitter *e, const tm_value *v, const char *expr) {
  vinfo *vi = TM_NEW(tm_ctx_arena(e->ctx), vinfo);
  vi->expr = expr;
  tm_ptrmap_set(&e->vals, v, vi);
  return vi;
}

/* A fresh local name: p for memrefs, i for induction variables, v otherwise. */
static const char *fresh(emitter *e, char prefix) { return S("%c%d", prefix, e->next_id++); }

/* The C expression of a value.  Every value a live op uses was bound when its definition
 * was emitted; `unbound` records a broken promise, which fails the emission. */
static const char *atom(emitter *e, const tm_value *v) {
  vinfo *vi = info(e, v);
  if (!vi) e->unbound = true;
  return vi ? vi->expr : "0";
}

static bool lit_of(emitter *e, const tm_value *v, int64_t *out) {
  vinfo *vi = info(e, v);
  if (!vi || !vi->is_lit) return false;
  *out = vi->lit;
  return true;
}

/* ------------------------------------------------------------------ literals ------ */
static const char *int_literal(emitter *e, const ctype *c, int64_t v) {
  if (c->is_i1) return v & 1 ? "1" : "0";
  if (c->width == 8) v = (int8_t)v;
  if (c->width == 16) v = (int16_t)v;
  if (c->width == 32) v = (int32_t)v;
  const char *s;
  if (c->width == 64 && !c->is_index) {
    if (v == INT64_MIN) return "(-INT64_C(9223372036854775807) - 1)";
    s = S("INT64_C(%lld)", (long long)v);
  } else if (v == INT32_MIN && c->width == 32) {
    return "(-2147483647 - 1)";
  } else {
    s = S("%lld", (long long)v);
  }
  return v < 0 ? S("(%s)", s) : s;
}

static const char *float_literal(emitter *e, const ctype *c, double d) {
  bool f32 = c->width == 32;
  if (d != d) return e->math = true, f32 ? "NAN" : "(double)NAN";
  if (d == INFINITY) return e->math = true, f32 ? "INFINITY" : "(double)INFINITY";
  if (d == -INFINITY) return e->math = true, f32 ? "(-INFINITY)" : "(-(double)INFINITY)";
  char buf[64];
  snprintf(buf, sizeof buf, f32 ? "%.9g" : "%.17g", d);
  bool has_point = strpbrk(buf, ".e") != NULL;
  const char *s = S("%s%s%s", buf, has_point ? "" : ".0", f32 ? "f" : "");
  return d < 0 || (d == 0 && signbit(d)) ? S("(%s)", s) : s;
}

/* ------------------------------------------------------------------ liveness ------ */
/* Ops without side effects whose results nobody (alive) uses are not emitted: C
 * compilers warn about unused locals, and -Werror makes that fatal. */
static bool removable(const tm_op *op) {
  if (op->nregions || op->nresults == 0) return false;
  return tm_op_has_trait(op, TM_TRAIT_PURE) || tm_op_is(op, "memref.load") || tm_op_is(op, "armdsp.load_word") ||
         tm_op_is(op, "armdsp.load_pair") || tm_op_is(op, "armdsp.vmladava");
}

static bool value_live(const emitter *e, const tm_value *v) {
  for (const tm_use *u = v->uses; u; u = u->next)
    if (!tm_ptrmap_get(&e->dead, u->user)) return true;
  return false;
}

static void mark_dead(emitter *e, tm_block *b) {
  for (tm_op *op = b->last; op; op = op->prev) {
    for (int r = 0; r < op->nregions; r++)
      for (tm_block *nb = op->regions[r].first; nb; nb = nb->next) mark_dead(e, nb);
    if (!removable(op)) continue;
    bool live = false;
    for (int i = 0; i < op->nresults && !live; i++) live = value_live(e, &op->results[i]);
    if (!live) tm_ptrmap_set(&e->dead, op, op);
  }
}

/* ------------------------------------------------------------------ symbols ------- */
static symbol *symbol_of(emitter *e, tm_op *op) { return op ? tm_ptrmap_get(&e->syms, op) : NULL; }

/* NAME_<sym> with the symbol's characters made C-safe, unique among the symbols. */
static const char *symbol_cname(emitter *e, const char *sym) {
  size_t n = strlen(sym);
  char *s = tm_arena_alloc(tm_ctx_arena(e->ctx), n + 1, 1);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    char c = sym[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (k == 0 && c == '_') continue; /* __tm_helper: identifiers starting with _ are reserved */
    s[k++] = ok ? c : '_';
  }
  s[k] = 0;
  const char *base = S("%s_%s", e->name, s), *name = base;
  for (int suffix = 1;; suffix++) {
    bool clash = !strcmp(name, S("%s_invoke", e->name));
    for (int i = 0; i < e->nsyms && !clash; i++) clash = !strcmp(e->symlist[i]->cname, name);
    if (!clash) return name;
    name = S("%s_%d", base, suffix);
  }
}

static int collect_symbols(emitter *e) {
  int n = 0;
  TM_FOREACH_OP(op, tm_module_body(e->module)) n++;
  e->symlist = TM_NEW_ARRAY(tm_ctx_arena(e->ctx), symbol *, n + 1);
  TM_FOREACH_OP(op, tm_module_body(e->module)) {
    if (!tm_op_is(op, "memref.global") && !tm_op_is(op, "func.func")) continue;
    const char *sym = tm_op_attr_str(op, "sym_name", NULL);
    if (!sym) return tm_op_error(e->ctx, op, "symbol without a sym_name");
    symbol *s = TM_NEW(tm_ctx_arena(e->ctx), symbol);
    s->op = op;
    s->cname = symbol_cname(e, sym);
    e->symlist[e->nsyms++] = s;
    tm_ptrmap_set(&e->syms, op, s);
  }
  return 0;
}

/* ------------------------------------------------------------------ values -------- */
static const char *decl_type(emitter *e, const tm_type *t, bool const_ptr) {
  ctype c;
  if (t->kind == TM_TYPE_MEMREF && ctype_of(t->elem, &c)) return S("%s%s *", const_ptr ? "const " : "", c.st);
  if (ctype_of(t, &c)) return S("%s ", c.st);
  return NULL;
}

static int unsupported_type(emitter *e, const tm_op *op, const tm_type *t) {
  return tm_op_error(e->ctx, op, "the C backend does not support values of type '%s'", tm_type_str(e->ctx, t));
}

/* Declares `T name = expr;` for result i of op. */
static int define(emitter *e, tm_op *op, int i, const char *expr) {
  tm_value *r = &op->results[i];
  const char *ty = decl_type(e, r->type, false);
  if (!ty) return unsupported_type(e, op, r->type);
  const char *n = fresh(e, r->type->kind == TM_TYPE_MEMREF ? 'p' : 'v');
  line(e, "%s%s = %s;", ty, n, expr);
  bind(e, r, n);
  return 0;
}

/* Static memref shapes only, and small enough for ptrdiff_t on a 32-bit target. */
static int check_memref(emitter *e, const tm_op *op, const tm_type *t) {
  ctype c;
  if (t->kind != TM_TYPE_MEMREF || !ctype_of(t->elem, &c)) return unsupported_type(e, op, t);
  if (!tm_type_is_static(t)) return tm_op_error(e->ctx, op, "the C backend needs static shapes, but got '%s'", tm_type_str(e->ctx, t));
  if (tm_type_numel(t) >= MAX_ELEMS) return tm_op_error(e->ctx, op, "buffer '%s' is too large", tm_type_str(e->ctx, t));
  return 0;
}

/* p[i * s0 + j * s1 + k]: row-major, constant indices folded; NULL after an error. */
static const char *element(emitter *e, const tm_op *op, int mem, int first_index) {
  const tm_type *t = op->operands[mem].value->type;
  const char *sum = NULL;
  int64_t offset = 0, stride = 1;
  for (int d = t->rank - 1; d >= 0; d--) {
    const tm_value *ix = op->operands[first_index + d].value;
    int64_t c;
    if (lit_of(e, ix, &c)) {
      if (c < 0 || c >= t->dims[d])
        return tm_op_error(e->ctx, op, "index %lld is out of bounds for dimension %d of '%s'", (long long)c, d,
                           tm_type_str(e->ctx, t)),
               NULL;
      offset += c * stride;
    } else {
      const char *term = stride == 1 ? atom(e, ix) : S("%s * %lld", atom(e, ix), (long long)stride);
      sum = sum ? S("%s + %s", term, sum) : term;
    }
    stride *= t->dims[d];
  }
  if (!sum) sum = S("%lld", (long long)offset);
  else if (offset > 0) sum = S("%s + %lld", sum, (long long)offset);
  else if (offset < 0) sum = S("%s - %lld", sum, (long long)-offset);
  return S("%s[%s]", atom(e, op->operands[mem].value), sum);
}

static int check_writable(emitter *e, const tm_op *op, int i) {
  vinfo *vi = info(e, op->operands[i].value);
  if (vi && vi->const_ptr)
    return tm_op_error(e->ctx, op, "writes to a read-only buffer (a constant memref.global or a model input)");
  return 0;
}

/* ------------------------------------------------------------------ op emitters --- */
typedef struct op_row op_row;
typedef int (*op_fn)(emitter *e, tm_op *op, const op_row *row);
struct op_row {
  const char *name;
  op_fn fn;
  int kind;
  const char *cop; /* C operator, or function name stem */
};

static int emit_block(emitter *e, tm_block *b);

/* Signed view of an i1 operand: MLIR's i1 true is -1 to signed ops. */
static const char *signed_atom(emitter *e, const tm_value *v, const ctype *c) {
  return c->is_i1 ? S("(-(int)%s)", atom(e, v)) : atom(e, v);
}

enum { B_WRAP, B_SIGNED, B_UNSIGNED, B_BITWISE, B_SHRS, B_SMAXMIN, B_UMAXMIN, B_FLOAT, B_FMAX, B_FMIN };

static int emit_binary(emitter *e, tm_op *op, const op_row *row) {
  ctype c;
  if (!ctype_of(op->results[0].type, &c)) return unsupported_type(e, op, op->results[0].type);
  const tm_value *va = tm_op_operand(op, 0), *vb = tm_op_operand(op, 1);
  const char *a = atom(e, va), *b = atom(e, vb), *x = NULL, *o = row->cop;
  switch (row->kind) {
  case B_WRAP:
    if (c.is_index) x = S("%s %s %s", a, o, b);
    else if (c.is_i1) x = S("(uint8_t)((%s %s %s) & 1)", a, o, b);
    else if (!strcmp(c.ut, c.wt)) x = S("(%s)((%s)%s %s (%s)%s)", c.st, c.ut, a, o, c.ut, b);
    else x = S("(%s)(%s)((%s)%s %s (%s)%s)", c.st, c.ut, c.wt, a, o, c.wt, b);
    break;
  case B_SIGNED:
    if (c.is_i1) x = S("(uint8_t)((%s %s %s) & 1)", signed_atom(e, va, &c), o, signed_atom(e, vb, &c));
    else if (c.is_index) x = S("%s %s %s", a, o, b);
    else x = S("(%s)(%s %s %s)", c.st, a, o, b);
    break;
  case B_UNSIGNED: x = S("(%s)((%s)%s %s (%s)%s)", c.st, c.ut, a, o, c.ut, b); break;
  case B_BITWISE: x = c.is_index ? S("%s %s %s", a, o, b) : S("(%s)(%s %s %s)", c.st, a, o, b); break;
  case B_SHRS:
    if (c.is_i1) {
      x = a; /* -1 or 0 shifted by the only valid amount, 0 */
    } else { /* i8 and i16 shift in 32 bits, index in 64, then narrow back */
      bool wide = c.width == 64, same = c.width == 32 || (wide && !c.is_index);
      use_helper(e, wide ? H_SRA64 : H_SRA32);
      x = S("%stm_sra%d(%s, %s)", same ? "" : S("(%s)", c.st), wide ? 64 : 32, a, b);
    }
    break;
  case B_SMAXMIN: x = S("%s %s %s ? %s : %s", signed_atom(e, va, &c), o, signed_atom(e, vb, &c), a, b); break;
  case B_UMAXMIN: x = S("(%s)%s %s (%s)%s ? %s : %s", c.ut, a, o, c.ut, b, a, b); break;
  case B_FLOAT: x = S("%s %s %s", a, o, b); break;
  case B_FMAX:
  case B_FMIN: {
    bool f32 = c.width == 32, max = row->kind == B_FMAX;
    use_helper(e, max ? (f32 ? H_MAXF : H_MAXD) : (f32 ? H_MINF : H_MIND));
    x = S("tm_%s%s(%s, %s)", max ? "maximum" : "minimum", f32 ? "f" : "", a, b);
    break;
  }
  }
  return define(e, op, 0, x);
}

/* math and unary float ops: cop is the double function, f32 adds the f suffix */
enum { U_FUNC, U_NEG, U_RSQRT, U_ABSI };

static int emit_unary(emitter *e, tm_op *op, const op_row *row) {
  ctype c;
  if (!ctype_of(op->results[0].type, &c)) return unsupported_type(e, op, op->results[0].type);
  const char *a = atom(e, tm_op_operand(op, 0)), *f = c.width == 32 ? "f" : "", *x;
  switch (row->kind) {
  case U_FUNC: x = S("%s%s(%s)", row->cop, f, a), e->math = true; break;
  case U_NEG: x = S("-%s", a); break;
  case U_RSQRT: x = S("%s / sqrt%s(%s)", c.width == 32 ? "1.0f" : "1.0", f, a), e->math = true; break;
  default: /* U_ABSI: INT_MIN stays INT_MIN, computed without signed overflow */
    x = c.is_i1 ? a : S("(%s)(%s < 0 ? (%s)0 - (%s)%s : (%s)%s)", c.st, a, c.wt, c.wt, a, c.wt, a);
    break;
  }
  return define(e, op, 0, x);
}

enum { C_EXTSI, C_EXTUI, C_TRUNCI, C_SITOFP, C_UITOFP, C_FPTOSI, C_FPTOUI, C_FCAST, C_INDEX, C_BITCAST };

static int emit_cast(emitter *e, tm_op *op, const op_row *row) {
  ctype from, to;
  const tm_value *in = tm_op_operand(op, 0);
  if (!ctype_of(in->type, &from)) return unsupported_type(e, op, in->type);
  if (!ctype_of(op->results[0].type, &to)) return unsupported_type(e, op, op->results[0].type);
  const char *a = atom(e, in), *x = NULL;
  switch (row->kind) {
  case C_EXTSI:
  case C_SITOFP:
  case C_INDEX:
    if (to.is_i1) x = S("(uint8_t)(%s & 1)", a);
    else x = S("(%s)%s", to.st, from.is_i1 ? S("(0 - %s)", a) : a);
    break;
  case C_EXTUI:
  case C_UITOFP: x = from.is_i1 ? S("(%s)%s", to.st, a) : S("(%s)(%s)%s", to.st, from.ut, a); break;
  case C_TRUNCI:
    /* Narrowing to a signed type wraps modulo 2^N with gcc, clang and every two's
     * complement compiler (C99 6.3.1.3 leaves it implementation-defined). */
    x = to.is_i1 ? S("(uint8_t)(%s & 1)", a) : S("(%s)(%s)%s", to.st, to.ut, a);
    break;
  case C_FPTOSI: x = to.is_i1 ? S("(uint8_t)(%s != 0)", a) : S("(%s)%s", to.st, a); break;
  case C_FPTOUI: x = to.is_i1 ? S("(uint8_t)(%s != 0)", a) : S("(%s)(%s)%s", to.st, to.ut, a); break;
  case C_FCAST: x = S("(%s)%s", to.st, a); break;
  default: /* C_BITCAST */
    if (from.is_float == to.is_float) x = S("(%s)%s", to.st, a);
    else if (to.is_float) use_helper(e, to.width == 32 ? H_F32_BITS : H_F64_BITS), x = S("tm_f%u_from_bits(%s)", to.width, a);
    else use_helper(e, from.width == 32 ? H_BITS_F32 : H_BITS_F64), x = S("tm_bits_from_f%u(%s)", from.width, a);
    break;
  }
  if (row->kind == C_BITCAST && to.is_float != from.is_float) e->string = true; /* memcpy */
  return define(e, op, 0, x);
}

static int emit_constant(emitter *e, tm_op *op, const op_row *row) {
  (void)row;
  const tm_attr *v = tm_op_attr(op, "value");
  ctype c;
  if (!ctype_of(op->results[0].type, &c) || !v || (v->kind != TM_ATTR_INT && v->kind != TM_ATTR_FLOAT && v->kind != TM_ATTR_BOOL))
    return tm_op_error(e->ctx, op, "the C backend supports scalar constants only");
  vinfo *vi;
  if (c.is_float) {
    vi = bind(e, &op->results[0], float_literal(e, &c, v->kind == TM_ATTR_FLOAT ? v->u.f : (double)v->u.i));
  } else {
    int64_t x = v->kind == TM_ATTR_BOOL ? v->u.b : v->kind == TM_ATTR_INT ? v->u.i : (int64_t)v->u.f;
    vi = bind(e, &op->results[0], int_literal(e, &c, x));
    vi->is_lit = true;
    vi->lit = x;
  }
  return 0;
}

static int emit_cmpi(emitter *e, tm_op *op, const op_row *row) {
  (void)row;
  static const char *const ops[] = {"==", "!=", "<", "<=", ">", ">=", "<", "<=", ">", ">="};
  ctype c;
  const tm_value *va = tm_op_operand(op, 0), *vb = tm_op_operand(op, 1);
  if (!ctype_of(va->type, &c)) return unsupported_type(e, op, va->type);
  int64_t p = tm_op_attr_int(op, "predicate", -1);
  if (p < 0 || p > 9) return tm_op_error(e->ctx, op, "unknown cmpi predicate %lld", (long long)p);
  const char *x;
  if (p >= 6) x = S("(%s)%s %s (%s)%s", c.ut, atom(e, va), ops[p], c.ut, atom(e, vb));
  else if (p >= 2) x = S("%s %s %s", signed_atom(e, va, &c), ops[p], signed_atom(e, vb, &c));
  else x = S("%s %s %s", atom(e, va), ops[p], atom(e, vb));
  return define(e, op, 0, x);
}

static int emit_cmpf(emitter *e, tm_op *op, const op_row *row) {
  (void)row;
  /* {format, negate}: ordered predicates are false on NaN, unordered ones true. */
  static const char *const fmts[] = {
      "0",                 "%1$s == %2$s",          "%1$s > %2$s",           "%1$s >= %2$s",
      "%1$s < %2$s",       "%1$s <= %2$s",          "(%1$s < %2$s || %1$s > %2$s)",
      "(%1$s == %1$s && %2$s == %2$s)",             "!(%1$s < %2$s || %1$s > %2$s)",
      "!(%1$s <= %2$s)",   "!(%1$s < %2$s)",        "!(%1$s >= %2$s)",       "!(%1$s > %2$s)",
      "%1$s != %2$s",      "(%1$s != %1$s || %2$s != %2$s)", "1"};
  int64_t p = tm_op_attr_int(op, "predicate", -1);
  if (p < 0 || p > 15) return tm_op_error(e->ctx, op, "unknown cmpf predicate %lld", (long long)p);
  const char *a = atom(e, tm_op_operand(op, 0)), *b = atom(e, tm_op_operand(op, 1));
  /* positional arguments are POSIX, not C: substitute by hand */
  const char *f = fmts[p], *x = "";
  for (const char *s = f; *s;) {
    if (s[0] == '%' && s[1] && s[2] == '$' && s[3] == 's') {
      x = S("%s%s", x, s[1] == '1' ? a : b);
      s += 4;
    } else {
      x = S("%s%c", x, *s++);
    }
  }
  return define(e, op, 0, x);
}

static int emit_select(emitter *e, tm_op *op, const op_row *row) {
  (void)row;
  if (op->results[0].type->kind == TM_TYPE_TENSOR) return unsupported_type(e, op, op->results[0].type);
  tm_value *t = tm_op_operand(op, 1), *f = tm_op_operand(op, 2);
  vinfo *ti = info(e, t), *fi = info(e, f);
  bool cp = (ti && ti->const_ptr) || (fi && fi->const_ptr);
  const char *ty = decl_type(e, op->results[0].type, cp);
  if (!ty) return unsupported_type(e, op, op->results[0].type);
  const char *n = fresh(e, op->results[0].type->kind == TM_TYPE_MEMREF ? 'p' : 'v');
  line(e, "%s%s = %s ? %s : %s;", ty, n, atom(e, tm_op_operand(op, 0)), atom(e, t), atom(e, f));
  bind(e, &op->results[0], n)->const_ptr = cp;
  return 0;
}

/* ------------------------------------------------------------------ memref -------- */
static int emit_load(emitter *e, tm_op *op, const op_row *row) {
  (void)row;
  const char *x = check_memref(e, op, tm_op_operand(op, 0)->type) ? NULL : element(e, op, 0, 1);
  return x ? define(e, op, 0, x) : -1;
}

static int emit_store(emitter *e, tm_op *op, const op_row *row) {
  (void)row;
  const char *x = check_memref(e, op, tm_op_operand(op, 1)->type) || check_writable(e, op, 1) ? NULL : element(e, op, 1, 2);
  if (!x) return -1;
  line(e, "%s = %s;", x, atom(e, tm_op_operand(op, 0)));
  return 0;
}

/* A local array of the element type: accessing it through its own type keeps it clear
 * of C's aliasing rules. */
static int emit_alloca(emitter *e, tm_op *op, const op_row *row) {
  (void)row;
  const tm_type *t = op->results[0].type;
  if (check_memref(e, op, t)) return -1;
  ctype c;
  ctype_of(t->elem, &c);
  int64_t align = tm_op_attr_int(op, "alignment", 0), n = tm_type_numel(t);
  if (align > 1) use_helper(e, H_ALIGNED);
  const char *name = fresh(e, 'p');
  line(e, "%s %s[%lld]%s;", c.st, name, (long long)(n ? n : 1), align > 1 ? S(" TM_ALIGNED(%lld)", (long long)align) : "");
  bind(e, &op->results[0], name);
  return 0;
}

static int emit_view(emitter *e, tm_op *op, const op_row *row) {
  (void)row;
  const tm_type *t = op->results[0].type;
  if (check_memref(e, op, t)) return -1;
  vinfo *src = info(e, tm_op_operand(op, 0));
  bool cp = src && src->const_ptr;
  ctype c;
  ctype_of(t->elem, &c);
  int64_t shift;
  const char *base = atom(e, tm_op_operand(op, 0));
  const char *addr = lit_of(e, tm_op_operand(op, 1), &shift) && shift == 0
                         ? base
                         : S("%s + %s", base, atom(e, tm_op_operand(op, 1)));
  const char *q = cp ? "const " : "";
  if (!strcmp(c.st, "int8_t") && addr == base) { /* the same bytes, the same type: no new local */
    bind(e, &op->results[0], base)->const_ptr = cp;
    return 0;
  }
  const char *x = !strcmp(c.st, "int8_t") ? addr : S("(%s%s *)(%svoid *)%s", q, c.st, q, addr == base ? base : S("(%s)", addr));
  const char *n = fresh(e, 'p');
  line(e, "%s%s *%s = %s;", q, c.st, n, x);
  bind(e, &op->results[0], n)->const_ptr = cp;
  return 0;
}

static int emit_get_global(emitter *e, tm_op *op, const op_row *row) {
  (void)row;
  const tm_attr *name = tm_op_attr(op, "name");
  tm_op *g = name && name->kind == TM_ATTR_SYMREF ? tm_module_lookup(e->module, name->u.str.data) : NULL;
  symbol *s = symbol_of(e, g);
  if (!s || !tm_op_is(g, "memref.global")) return tm_op_error(e->ctx, op, "does not reference a memref.global");
  if (check_memref(e, op, op->results[0].type)) return -1;
  s->used = true;
  bind(e, &op->results[0], s->cname)->const_ptr = tm_op_attr(g, "constant") != NULL;
  return 0;
}

static int emit_collapse(emitter *e, tm_op *op, const op_row *row) {
  (void)row;
  if (check_memref(e, op, op->results[0].type)) return -1;
  vinfo *src = info(e, tm_op_operand(op, 0));
  bind(e, &op->results[0], atom(e, tm_op_operand(op, 0)))->const_ptr = src && src->const_ptr;
  return 0;
}

static int emit_copy(emitter *e, tm_op *op, const op_row *row) {
  (void)row;
  const tm_type *t = tm_op_operand(op, 0)->type;
  if (check_memref(e, op, t) || check_writable(e, op, 1)) return -1;
  e->string = true;
  line(e, "memcpy(%s, %s, %lld);", atom(e, tm_op_operand(op, 1)), atom(e, tm_op_operand(op, 0)),
       (long long)tm_type_bytes(t));
  return 0;
}

/* ------------------------------------------------------------------ scf ----------- */
/* Declares a local for each result (the loop-carried variable of scf.for / scf.while). */
static int declare_results(emitter *e, tm_op *op, tm_value *const *inits, const char **names) {
  for (int i = 0; i < op->nresults; i++) {
    tm_value *r = &op->results[i];
    const char *ty = decl_type(e, r->type, false);
    if (!ty) return unsupported_type(e, op, r->type);
    names[i] = fresh(e, r->type->kind == TM_TYPE_MEMREF ? 'p' : 'v');
    line(e, "%s%s = %s;", ty, names[i], inits ? atom(e, inits[i]) : "0");
    bind(e, r, names[i]);
  }
  return 0;
}

/* targets[i] = the terminator's operands from `first` on, as a parallel assignment. */
static void assign_from(emitter *e, const tm_op *term, int first, const char *const *targets, int n,
                        const tm_type *const *types) {
  bool clash = false;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      clash |= i != j && !strcmp(atom(e, term->operands[first + i].value), targets[j]);
  const char **src = TM_NEW_ARRAY(tm_ctx_arena(e->ctx), const char *, n + 1);
  for (int i = 0; i < n; i++) {
    src[i] = atom(e, term->operands[first + i].value);
    vinfo *vi = info(e, term->operands[first + i].value);
    /* a read-only buffer merged with writable ones: the program never writes it */
    if (vi && vi->const_ptr) src[i] = S("(%s)%s", decl_type(e, types[i], false), src[i]);
  }
  if (clash) {
    line(e, "{");
    e->indent++;
    for (int i = 0; i < n; i++) {
      const char *t = S("t%d", e->next_id++);
      line(e, "%s%s = %s;", decl_type(e, types[i], false), t, src[i]);
      src[i] = t;
    }
  }
  for (int i = 0; i < n; i++)
    if (strcmp(src[i], targets[i])) line(e, "%s = %s;", targets[i], src[i]);
  if (clash) {
    e->indent--;
    line(e, "}");
  }
}

static const tm_type **result_types(emitter *e, tm_op *op) {
  const tm_type **t = TM_NEW_ARRAY(tm_ctx_arena(e->ctx), const tm_type *, op->nresults + 1);
  for (int i = 0; i < op->nresults; i++) t[i] = op->results[i].type;
  return t;
}

static void void_unused(emitter *e, tm_op *op, const char *const *names) {
  for (int i = 0; i < op->nresults; i++)
    if (!value_live(e, &op->results[i])) line(e, "(void)%s;", names[i]);
}

static int emit_for(emitter *e, tm_op *op, const op_row *row) {
  (void)row;
  tm_block *body = op->regions[0].first;
  ctype c;
  if (!ctype_of(tm_op_operand(op, 0)->type, &c)) return unsupported_type(e, op, tm_op_operand(op, 0)->type);
  const char **names = TM_NEW_ARRAY(tm_ctx_arena(e->ctx), const char *, op->nresults + 1);
  tm_value **inits = TM_NEW_ARRAY(tm_ctx_arena(e->ctx), tm_value *, op->nresults + 1);
  for (int i = 0; i < op->nresults; i++) inits[i] = tm_op_operand(op, 3 + i);
  if (declare_results(e, op, inits, names)) return -1;
  for (int i = 0; i < op->nresults; i++) bind(e, body->args[1 + i], names[i]);
  const char *iv = fresh(e, 'i');
  bind(e, body->args[0], iv);
  int64_t step;
  const char *inc = lit_of(e, tm_op_operand(op, 2), &step) && step == 1 ? S("++%s", iv)
                                                                        : S("%s += %s", iv, atom(e, tm_op_operand(op, 2)));
  line(e, "for (%s %s = %s; %s < %s; %s) {", c.st, iv, atom(e, tm_op_operand(op, 0)), iv, atom(e, tm_op_operand(op, 1)),
       inc);
  e->indent++;
  if (emit_block(e, body)) return -1;
  assign_from(e, body->last, 0, names, op->nresults, result_types(e, op));
  e->indent--;
  line(e, "}");
  void_unused(e, op, names);
  return 0;
}

static int emit_if(emitter *e, tm_op *op, const op_row *row) {
  (void)row;
  const char **names = TM_NEW_ARRAY(tm_ctx_arena(e->ctx), const char *, op->nresults + 1);
  if (declare_results(e, op, NULL, names)) return -1;
  const tm_type **types = result_types(e, op);
  line(e, "if (%s) {", atom(e, tm_op_operand(op, 0)));
  for (int r = 0; r < 2; r++) {
    tm_block *b = op->regions[r].first;
    if (!b) break;
    if (r) {
      /* an else region of nothing but its yield is left out */
      if (b->first == b->last && !op->nresults) break;
      line(e, "} else {");
    }
    e->indent++;
    if (emit_block(e, b)) return -1;
    assign_from(e, b->last, 0, names, op->nresults, types);
    e->indent--;
  }
  line(e, "}");
  void_unused(e, op, names);
  return 0;
}

static int emit_while(emitter *e, tm_op *op, const op_row *row) {
  (void)row;
  tm_block *before = op->regions[0].first, *after = op->regions[1].first;
  const char **names = TM_NEW_ARRAY(tm_ctx_arena(e->ctx), const char *, op->nresults + 1);
  const char **carried = TM_NEW_ARRAY(tm_ctx_arena(e->ctx), const char *, before->nargs + 1);
  const tm_type **ctypes = TM_NEW_ARRAY(tm_ctx_arena(e->ctx), const tm_type *, before->nargs + 1);
  for (int i = 0; i < before->nargs; i++) {
    const tm_type *t = before->args[i]->type;
    const char *ty = decl_type(e, t, false);
    if (!ty) return unsupported_type(e, op, t);
    carried[i] = fresh(e, t->kind == TM_TYPE_MEMREF ? 'p' : 'v');
    ctypes[i] = t;
    line(e, "%s%s = %s;", ty, carried[i], atom(e, tm_op_operand(op, i)));
    bind(e, before->args[i], carried[i]);
  }
  if (declare_results(e, op, NULL, names)) return -1;
  line(e, "for (;;) {");
  e->indent++;
  if (emit_block(e, before)) return -1;
  tm_op *cond = before->last;
  line(e, "if (!%s) {", atom(e, tm_op_operand(cond, 0)));
  e->indent++;
  assign_from(e, cond, 1, names, op->nresults, result_types(e, op));
  line(e, "break;");
  e->indent--;
  line(e, "}");
  for (int i = 0; i < after->nargs; i++) {
    tm_value *a = after->args[i];
    const char *ty = decl_type(e, a->type, false);
    if (!ty) return unsupported_type(e, op, a->type);
    const char *n = fresh(e, a->type->kind == TM_TYPE_MEMREF ? 'p' : 'v');
    line(e, "%s%s = %s;", ty, n, atom(e, tm_op_operand(cond, 1 + i)));
    if (!value_live(e, a)) line(e, "(void)%s;", n);
    bind(e, a, n);
  }
  if (emit_block(e, after)) return -1;
  assign_from(e, after->last, 0, carried, before->nargs, ctypes);
  e->indent--;
  line(e, "}");
  void_unused(e, op, names);
  return 0;
}

/* ------------------------------------------------------------------ func ---------- */
static int emit_call(emitter *e, tm_op *op, const op_row *row) {
  (void)row;
  const tm_attr *callee = tm_op_attr(op, "callee");
  tm_op *f = callee && callee->kind == TM_ATTR_SYMREF ? tm_module_lookup(e->module, callee->u.str.data) : NULL;
  symbol *s = symbol_of(e, f);
  if (!s || !tm_op_is(f, "func.func")) return tm_op_error(e->ctx, op, "does not call a func.func of the module");
  if (!tm_func_entry(f)) return tm_op_error(e->ctx, op, "calls '%s', which has no body", callee->u.str.data);
  if (op->nresults > 1) return tm_op_error(e->ctx, op, "the C backend supports calls with at most one result");
  s->used = true;
  const char *args = "";
  for (int i = 0; i < op->noperands; i++) {
    tm_value *v = tm_op_operand(op, i);
    vinfo *vi = info(e, v);
    const char *a = atom(e, v);
    /* helper parameters are writable pointers; a read-only buffer is only read there */
    if (vi && vi->const_ptr) a = S("(%s)%s", decl_type(e, v->type, false), a);
    args = S("%s%s%s", args, i ? ", " : "", a);
  }
  const char *call = S("%s(%s)", s->cname, args);
  if (op->nresults && value_live(e, &op->results[0])) return define(e, op, 0, call);
  line(e, "%s;", call);
  return 0;
}

/* The end of a function body: void functions simply end. */
static int emit_return(emitter *e, tm_op *op, const op_row *row) {
  (void)row;
  if (op->noperands > 1) return tm_op_error(e->ctx, op, "the C backend supports functions with at most one result");
  if (op->noperands) line(e, "return %s;", atom(e, tm_op_operand(op, 0)));
  return 0;
}

/* ------------------------------------------------------------------ armdsp -------- */
enum { D_SXTB16, D_SMLAD, D_USADA8, D_LOAD_WORD, D_LOAD_PAIR, D_VMLADAVA };

static int emit_armdsp(emitter *e, tm_op *op, const op_row *row) {
  const char *a = atom(e, tm_op_operand(op, 0)), *x;
  switch (row->kind) {
  case D_SXTB16: {
    int64_t rot = tm_op_attr_int(op, "rotate", 0);
    use_helper(e, H_SXTB16);
    x = rot ? S("tm_sxtb16((uint32_t)%s >> %d | (uint32_t)%s << %d)", a, (int)rot, a, 32 - (int)rot) : S("tm_sxtb16(%s)", a);
    break;
  }
  case D_SMLAD:
    use_helper(e, H_SMLAD);
    x = S("tm_smlad(%s, %s, %s)", a, atom(e, tm_op_operand(op, 1)), atom(e, tm_op_operand(op, 2)));
    break;
  case D_USADA8:
    use_helper(e, H_USADA8);
    x = S("tm_usada8(%s, %s, %s)", a, atom(e, tm_op_operand(op, 1)), atom(e, tm_op_operand(op, 2)));
    break;
  case D_VMLADAVA: {
    const char *p = check_memref(e, op, tm_op_operand(op, 1)->type) ? NULL : element(e, op, 1, 2);
    const char *q = !p || check_memref(e, op, tm_op_operand(op, 3)->type) ? NULL : element(e, op, 3, 4);
    if (!q) return -1;
    use_helper(e, H_VMLADAVA);
    x = S("tm_vmladava(%s, &%s, &%s, %d)", a, p, q, (int)tm_op_attr_int(op, "lanes", 16));
    break;
  }
  default:
    x = check_memref(e, op, tm_op_operand(op, 0)->type) ? NULL : element(e, op, 0, 1);
    if (!x) return -1;
    use_helper(e, row->kind == D_LOAD_PAIR ? H_LOAD_PAIR : H_LOAD_WORD);
    if (row->kind == D_LOAD_PAIR) e->string = true; /* memcpy */
    x = S(row->kind == D_LOAD_PAIR ? "tm_load_pair(&%s)" : "tm_load_word(&%s)", x);
    break;
  }
  return define(e, op, 0, x);
}

static const op_row rows[] = {
    {"arith.constant", emit_constant, 0, NULL},
    {"arith.addi", emit_binary, B_WRAP, "+"},
    {"arith.subi", emit_binary, B_WRAP, "-"},
    {"arith.muli", emit_binary, B_WRAP, "*"},
    {"arith.shli", emit_binary, B_WRAP, "<<"},
    {"arith.divsi", emit_binary, B_SIGNED, "/"},
    {"arith.remsi", emit_binary, B_SIGNED, "%"},
    {"arith.divui", emit_binary, B_UNSIGNED, "/"},
    {"arith.remui", emit_binary, B_UNSIGNED, "%"},
    {"arith.shrui", emit_binary, B_UNSIGNED, ">>"},
    {"arith.andi", emit_binary, B_BITWISE, "&"},
    {"arith.ori", emit_binary, B_BITWISE, "|"},
    {"arith.xori", emit_binary, B_BITWISE, "^"},
    {"arith.shrsi", emit_binary, B_SHRS, NULL},
    {"arith.maxsi", emit_binary, B_SMAXMIN, ">"},
    {"arith.minsi", emit_binary, B_SMAXMIN, "<"},
    {"arith.maxui", emit_binary, B_UMAXMIN, ">"},
    {"arith.minui", emit_binary, B_UMAXMIN, "<"},
    {"arith.addf", emit_binary, B_FLOAT, "+"},
    {"arith.subf", emit_binary, B_FLOAT, "-"},
    {"arith.mulf", emit_binary, B_FLOAT, "*"},
    {"arith.divf", emit_binary, B_FLOAT, "/"},
    {"arith.maximumf", emit_binary, B_FMAX, NULL},
    {"arith.minimumf", emit_binary, B_FMIN, NULL},
    {"arith.negf", emit_unary, U_NEG, NULL},
    {"arith.cmpi", emit_cmpi, 0, NULL},
    {"arith.cmpf", emit_cmpf, 0, NULL},
    {"arith.select", emit_select, 0, NULL},
    {"arith.extsi", emit_cast, C_EXTSI, NULL},
    {"arith.extui", emit_cast, C_EXTUI, NULL},
    {"arith.trunci", emit_cast, C_TRUNCI, NULL},
    {"arith.sitofp", emit_cast, C_SITOFP, NULL},
    {"arith.uitofp", emit_cast, C_UITOFP, NULL},
    {"arith.fptosi", emit_cast, C_FPTOSI, NULL},
    {"arith.fptoui", emit_cast, C_FPTOUI, NULL},
    {"arith.extf", emit_cast, C_FCAST, NULL},
    {"arith.truncf", emit_cast, C_FCAST, NULL},
    {"arith.index_cast", emit_cast, C_INDEX, NULL},
    {"arith.bitcast", emit_cast, C_BITCAST, NULL},
    {"math.exp", emit_unary, U_FUNC, "exp"},
    {"math.log", emit_unary, U_FUNC, "log"},
    {"math.tanh", emit_unary, U_FUNC, "tanh"},
    {"math.sqrt", emit_unary, U_FUNC, "sqrt"},
    {"math.absf", emit_unary, U_FUNC, "fabs"},
    {"math.rsqrt", emit_unary, U_RSQRT, NULL},
    {"math.absi", emit_unary, U_ABSI, NULL},
    {"armdsp.sxtb16", emit_armdsp, D_SXTB16, NULL},
    {"armdsp.smlad", emit_armdsp, D_SMLAD, NULL},
    {"armdsp.usada8", emit_armdsp, D_USADA8, NULL},
    {"armdsp.load_word", emit_armdsp, D_LOAD_WORD, NULL},
    {"armdsp.load_pair", emit_armdsp, D_LOAD_PAIR, NULL},
    {"armdsp.vmladava", emit_armdsp, D_VMLADAVA, NULL},
    {"memref.load", emit_load, 0, NULL},
    {"memref.store", emit_store, 0, NULL},
    {"memref.alloca", emit_alloca, 0, NULL},
    {"memref.view", emit_view, 0, NULL},
    {"memref.get_global", emit_get_global, 0, NULL},
    {"memref.collapse_shape", emit_collapse, 0, NULL},
    {"memref.copy", emit_copy, 0, NULL},
    {"scf.for", emit_for, 0, NULL},
    {"scf.if", emit_if, 0, NULL},
    {"scf.while", emit_while, 0, NULL},
    {"func.call", emit_call, 0, NULL},
    {"func.return", emit_return, 0, NULL},
};

static const op_row *row_of(const tm_op *op) {
  for (size_t i = 0; i < TM_COUNTOF(rows); i++)
    if (!strcmp(rows[i].name, op->name)) return &rows[i];
  return NULL;
}

static int emit_op(emitter *e, tm_op *op) {
  if (tm_ptrmap_get(&e->dead, op)) return 0;
  if (tm_op_is(op, "scf.yield") || tm_op_is(op, "scf.condition")) return 0; /* the parent assigns */
  const op_row *row = row_of(op);
  if (!row) {
    const char *hint = !strncmp(op->name, "tm.", 3) ? " (run lower-to-loops first)"
                       : tm_op_is(op, "memref.alloc") ? " (run plan-memory first)"
                                                       : "";
    return tm_op_error(e->ctx, op, "the C backend does not support '%s'%s", op->name, hint);
  }
  for (int i = 0; i < op->nresults; i++)
    if (op->results[i].type->kind == TM_TYPE_TENSOR) return unsupported_type(e, op, op->results[i].type);
  return row->fn(e, op, row);
}

/* "model.tflite:op 3 (conv2d_1/Relu)": where a kernel comes from, for readers of the C
 * (a file without directories; a TFLite tensor name up to its first ';'). */
static const char *loc_label(emitter *e, const tm_loc *l) {
  while (l && (l->kind == TM_LOC_FUSED || l->kind == TM_LOC_CALLSITE))
    l = l->kind == TM_LOC_FUSED ? (l->nlocs ? l->locs[0] : NULL) : l->child;
  if (!l || (l->kind != TM_LOC_FILE && l->kind != TM_LOC_NAME)) return NULL;
  const char *where = l->kind == TM_LOC_FILE ? l->file : l->name, *slash = strrchr(where, '/');
  const char *text = l->kind == TM_LOC_FILE ? S("%s:%d", slash ? slash + 1 : where, l->line) : slash ? slash + 1 : where;
  if (l->kind == TM_LOC_NAME && l->child && l->child->kind == TM_LOC_NAME)
    text = S("%s (%.*s)", text, (int)strcspn(l->child->name, ";"), l->child->name);
  char *safe = S("%.120s", text);
  for (char *c = safe; *c; c++) /* without '*' and '\\' no comment can end or splice */
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || strchr(" _-.:,()[]/", *c)))
      *c = '_';
  return safe;
}

static int emit_block(emitter *e, tm_block *b) {
  if (++e->depth > MAX_NESTING) return tm_error(e->ctx, tm_loc_unknown(e->ctx), "regions nest too deeply"), -1;
  for (tm_op *op = b->first; op; op = op->next) {
    if (e->depth == 1 && (op->nregions || tm_op_is(op, "func.call")) && !tm_ptrmap_get(&e->dead, op)) {
      const char *label = loc_label(e, op->loc);
      if (label && (!e->last_label || strcmp(label, e->last_label))) line(e, "/* %s */", label);
      if (label) e->last_label = label;
    }
    if (emit_op(e, op)) return -1;
  }
  e->depth--;
  return 0;
}

/* ------------------------------------------------------------------ functions ----- */
static const char *param_name(emitter *e, const tm_model_info *mi, int i) {
  if (!mi) return S("a%d", i);
  if (mi->has_arena && i == 0) return "arena";
  i -= mi->has_arena;
  return i < mi->ninputs ? S("in%d", i) : S("out%d", i - mi->ninputs);
}

/* Whether argument i of f is one of outline-repeated-loops' tm.readonly_args (a
 * constant global in every call: `const T *restrict`). */
static bool readonly_arg(const tm_op *f, int i) {
  const tm_attr *ro = tm_op_attr(f, "tm.readonly_args");
  for (int k = 0; ro && ro->kind == TM_ATTR_ARRAY && k < ro->u.array.n; k++)
    if (ro->u.array.elts[k]->kind == TM_ATTR_INT && ro->u.array.elts[k]->u.i == i) return true;
  return false;
}

/* `static void NAME_f(int8_t *arena, const int8_t *in0, int8_t *out0)`; mi is set for
 * the model function, whose inputs are read-only. */
static const char *signature(emitter *e, symbol *s, const tm_model_info *mi) {
  tm_op *f = s->op;
  tm_block *entry = tm_func_entry(f);
  const tm_type *ft = tm_func_type(f);
  const char *params = "";
  for (int i = 0; i < entry->nargs; i++) {
    tm_value *a = entry->args[i];
    bool input = mi && i >= mi->has_arena && i < mi->has_arena + mi->ninputs, ro = readonly_arg(f, i);
    const char *ty = decl_type(e, a->type, input || ro);
    if (!ty || (a->type->kind == TM_TYPE_MEMREF && check_memref(e, f, a->type))) {
      if (!ty) unsupported_type(e, f, a->type);
      return NULL;
    }
    params = S("%s%s%s%s%s", params, i ? ", " : "", ty, ro ? "restrict " : "", param_name(e, mi, i));
  }
  const char *ret = "void";
  if (ft->nresults) {
    ctype c;
    if (!ctype_of(ft->results[0], &c)) return unsupported_type(e, f, ft->results[0]), NULL;
    ret = c.st;
  }
  /* helpers are inline; outline-repeated-loops' shared code is not (it would be copied back) */
  bool plain = mi || tm_op_attr(f, "tm.outlined");
  return S("static %s%s %s(%s)", plain ? "" : "inline ", ret, s->cname, *params ? params : "void");
}

static int emit_function(emitter *e, symbol *s, const tm_model_info *mi, cbuf *protos) {
  tm_op *f = s->op;
  tm_block *entry = tm_func_entry(f);
  const tm_type *ft = tm_func_type(f);
  s->emitted = true;
  if (!entry || entry->next) return tm_op_error(e->ctx, f, "the C backend needs function bodies of one block");
  if (ft->nresults > 1) return tm_op_error(e->ctx, f, "the C backend supports functions with at most one result");
  const char *sig = signature(e, s, mi);
  if (!sig) return -1;
  cb_printf(e->ctx, protos, "%s;\n", sig);
  e->dead = (tm_ptrmap){.arena = tm_ctx_arena(e->ctx)};
  mark_dead(e, entry);
  OUT(e, "\n%s {\n", sig);
  e->indent = 1;
  for (int i = 0; i < entry->nargs; i++) {
    tm_value *a = entry->args[i];
    bind(e, a, param_name(e, mi, i))->const_ptr =
        (mi && i >= mi->has_arena && i < mi->has_arena + mi->ninputs) || readonly_arg(f, i);
    if (!value_live(e, a)) line(e, "(void)%s;", param_name(e, mi, i));
  }
  if (emit_block(e, entry)) return -1;
  e->indent = 0;
  OUT(e, "}\n");
  return 0;
}

/* With inputs and outputs in the arena, a NULL array or entry means "already there";
 * other pointers are copied in before the run and out after it. */
static void emit_invoke(emitter *e, const tm_model_info *mi, const symbol *model) {
  const char *n = e->name, *args = mi->has_arena ? "(int8_t *)arena" : "", *copy_out = "";
  bool io = mi->io_in_arena;
  OUT(e, "\nint %s_invoke(void *arena, const void *const inputs[], void *const outputs[]) {\n", n);
  if (mi->ninputs && !io) OUT(e, "  if (!inputs) return -1;\n");
  else if (!mi->ninputs) OUT(e, "  (void)inputs;\n");
  if (mi->noutputs && !io) OUT(e, "  if (!outputs) return -1;\n");
  else if (!mi->noutputs) OUT(e, "  (void)outputs;\n");
  if (mi->arena_bytes || io) OUT(e, "  if (!arena || ((uintptr_t)arena & 15u) != 0) return -1;\n");
  else if (!mi->has_arena) OUT(e, "  (void)arena;\n");
  if (io) e->string = true;
  for (int k = 0; k < 2; k++) {
    int m = k ? mi->noutputs : mi->ninputs;
    const tm_model_io *io_list = k ? mi->outputs : mi->inputs;
    const char *side = k ? "outputs" : "inputs";
    for (int i = 0; i < m; i++) {
      ctype c;
      ctype_of(io_list[i].type->elem, &c);
      const char *ptr = S("%s[%d]", side, i);
      if (io) {
        const char *at = S("(int8_t *)arena + %lld", (long long)io_list[i].offset);
        const char *cp = S("  if (%s && %s) memcpy(%s, %s, %lld);\n", side, ptr, k ? ptr : at, k ? at : ptr,
                           (long long)io_list[i].bytes);
        if (k) copy_out = S("%s%s", copy_out, cp);
        else OUT(e, "%s", cp);
        ptr = S("(%s)", at);
      } else {
        OUT(e, "  if (!%s) return -1;\n", ptr);
      }
      args = S("%s%s(%s%s *)%s", args, *args ? ", " : "", k ? "" : "const ", c.st, ptr);
    }
  }
  OUT(e, "  %s(%s);\n%s  return 0;\n}\n", model->cname, args, copy_out);
}

/* ------------------------------------------------------------------ globals ------- */
static void put_element(cbuf *out, tm_ctx *ctx, const ctype *c, const tm_attr *init, int64_t i) {
  if (c->is_float) {
    double d = tm_dense_get_float(init, i);
    char buf[64];
    if (d != d) snprintf(buf, sizeof buf, "NAN");
    else if (isinf(d)) snprintf(buf, sizeof buf, "%sINFINITY", d < 0 ? "-" : "");
    else snprintf(buf, sizeof buf, c->width == 32 ? "%.9g" : "%.17g", d);
    bool plain = strpbrk(buf, ".eN") != NULL; /* NAN, INFINITY, 1.5, 1e+10 */
    cb_printf(ctx, out, "%s%s%s", buf, plain ? "" : ".0", c->width == 32 && !strchr(buf, 'N') ? "f" : "");
    return;
  }
  int64_t v = tm_dense_get_int(init, i);
  if (c->width == 64 && v == INT64_MIN) cb_printf(ctx, out, "(-INT64_C(9223372036854775807) - 1)");
  else if (c->width == 32 && v == INT32_MIN) cb_printf(ctx, out, "(-2147483647 - 1)");
  else if (c->width == 64 && (v > INT32_MAX || v < -INT32_MAX)) cb_printf(ctx, out, "INT64_C(%lld)", (long long)v);
  else cb_printf(ctx, out, "%lld", (long long)v);
}

static bool all_zero(const tm_attr *init, int64_t n, bool is_float) {
  for (int64_t i = 0; i < n; i++)
    if (is_float ? tm_dense_get_float(init, i) != 0.0 || signbit(tm_dense_get_float(init, i)) : tm_dense_get_int(init, i) != 0)
      return false;
  return true;
}

static int emit_global(emitter *e, cbuf *out, const symbol *s) {
  tm_op *g = s->op;
  const tm_attr *ta = tm_op_attr(g, "type");
  const tm_type *t = ta && ta->kind == TM_ATTR_TYPE ? ta->type : NULL;
  if (!t || check_memref(e, g, t)) return t ? -1 : tm_op_error(e->ctx, g, "memref.global without a type");
  ctype c;
  ctype_of(t->elem, &c);
  if (c.is_float) e->math = true; /* NAN and INFINITY may appear in the initializer */
  const tm_attr *init = tm_op_attr(g, "initial_value");
  if (init && init->kind != TM_ATTR_DENSE) init = NULL;
  int64_t n = tm_type_numel(t), align = tm_op_attr_int(g, "alignment", 0);
  if (align > 1) use_helper(e, H_ALIGNED);
  cb_printf(e->ctx, out, "\nstatic %s%s %s[%lld]", tm_op_attr(g, "constant") ? "const " : "", c.st, s->cname,
            (long long)(n ? n : 1));
  if (align > 1) cb_printf(e->ctx, out, " TM_ALIGNED(%lld)", (long long)align);
  if (!init || n == 0 || all_zero(init, n, c.is_float)) {
    cb_printf(e->ctx, out, " = {0};\n");
    return 0;
  }
  int per_line = c.is_float ? 8 : 16;
  cb_printf(e->ctx, out, " = {");
  for (int64_t i = 0; i < n; i++) {
    cb_printf(e->ctx, out, i % per_line ? " " : "\n    ");
    put_element(out, e->ctx, &c, init, i);
    if (i + 1 < n) cb_printf(e->ctx, out, ",");
  }
  cb_printf(e->ctx, out, "\n};\n");
  return 0;
}

/* ------------------------------------------------------------------ the files ----- */
/* Not the IR's fault: reported without a location. */
static int write_error(tm_ctx *ctx, const char *path) {
  tm_error(ctx, tm_loc_unknown(ctx), "cannot write '%s': %s", path, strerror(errno));
  return -1;
}

/* Writes text, or the header when text is NULL. */
static int write_file(tm_ctx *ctx, const char *path, const cbuf *text, const tm_model_info *mi, const char *name) {
  FILE *f = fopen(path, "w");
  if (!f) return write_error(ctx, path);
  if (text) fwrite(text->data, 1, text->len, f);
  else tm_write_header(ctx, mi, name, "C", f);
  if (ferror(f) | fclose(f)) {
    int rc = write_error(ctx, path);
    tm_remove_output(path);
    return rc;
  }
  return 0;
}

int tm_emit_c(tm_ctx *ctx, tm_op *module, const tm_emit_options *opt) {
  if (!tm_is_c_identifier(opt->name))
    return tm_op_error(ctx, module, "model name '%s' is not a C identifier (choose one with --name)", opt->name);
  tm_model_info mi;
  if (tm_model_info_get(ctx, module, &mi)) return -1;
  tm_arena *ar = tm_ctx_arena(ctx);
  emitter em = {.ctx = ctx, .module = module, .name = opt->name, .vals = {.arena = ar}, .syms = {.arena = ar}},
          *e = &em;
  e->out = &e->body;
  if (collect_symbols(e)) return -1;
  cbuf protos = {0}, globals = {0}, file = {0};
  symbol *model = symbol_of(e, mi.func);
  if (emit_function(e, model, &mi, &protos)) return -1;
  for (bool more = true; more;) { /* the helpers the emitted functions call, transitively */
    more = false;
    for (int i = 0; i < e->nsyms; i++) {
      symbol *s = e->symlist[i];
      if (s->used && !s->emitted && tm_op_is(s->op, "func.func")) {
        if (emit_function(e, s, NULL, &protos)) return -1;
        more = true;
      }
    }
  }
  for (int i = 0; i < e->nsyms; i++)
    if (e->symlist[i]->used && tm_op_is(e->symlist[i]->op, "memref.global") && emit_global(e, &globals, e->symlist[i]))
      return -1;
  emit_invoke(e, &mi, model);
  if (e->unbound) return tm_op_error(ctx, mi.func, "the C backend used a value it never defined");

  cb_printf(ctx, &file, "/* %s.c: generated by tinyml (C backend), do not edit. */\n", opt->name);
  cb_printf(ctx, &file, "#include <stddef.h>\n#include <stdint.h>\n");
  if (e->string) cb_printf(ctx, &file, "#include <string.h>\n");
  if (e->math) cb_printf(ctx, &file, "#include <math.h>\n");
  const char *hpath = tm_header_path(ctx, opt->path), *slash = strrchr(hpath, '/');
  cb_printf(ctx, &file, "\n#include \"%s\"\n", slash ? slash + 1 : hpath);
  for (int h = 0; h < H_COUNT; h++)
    if (e->need[h]) cb_printf(ctx, &file, "\n%s", helpers[h].text);
  cb_printf(ctx, &file, "\n%.*s", (int)protos.len, protos.data);
  if (globals.len) cb_printf(ctx, &file, "%.*s", (int)globals.len, globals.data);
  cb_printf(ctx, &file, "%.*s", (int)e->body.len, e->body.data);

  if (write_file(ctx, hpath, NULL, &mi, opt->name)) return -1;
  if (write_file(ctx, opt->path, &file, &mi, opt->name)) {
    tm_remove_output(hpath);
    return -1;
  }
  return 0;
}
