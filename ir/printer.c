/* ir/printer.c — the canonical textual form: MLIR's generic op syntax plus the custom
 * forms of builtin.module, func.func and func.return.  What it prints re-parses to the
 * same IR (and the same text) and is accepted by mlir-opt --allow-unregistered-dialect.
 *
 * Values are numbered as MLIR's AsmPrinter does: each region continues from the
 * numbering its parent region reached, entry-block arguments are %argN, other block
 * arguments and op results share the %N sequence, and an op with several results binds
 * one name (%0:2) whose members are %0#0 and %0#1. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ir_internal.h"

/* ------------------------------------------------------------------- f16 ---------- */

uint16_t tm_f16_from_double(double d) {
  uint16_t sign = signbit(d) ? 0x8000 : 0;
  if (isnan(d)) return sign | 0x7e00;
  double a = fabs(d);
  if (a >= 65520.0) return sign | 0x7c00; /* halfway past the largest half rounds up */
  if (a < 0x1p-14) return sign | (uint16_t)nearbyint(a * 0x1p24); /* subnormal (1024 = min normal) */
  int e;
  double m = frexp(a, &e); /* a = m * 2^e, m in [0.5, 1) */
  int exp = e - 1;
  double q = nearbyint((2.0 * m - 1.0) * 1024.0);
  if (q >= 1024.0) q = 0.0, exp++;
  if (exp > 15) return sign | 0x7c00;
  return sign | (uint16_t)((exp + 15) << 10) | (uint16_t)q;
}

double tm_f16_to_double(uint16_t h) {
  int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  double r;
  if (e == 0) r = ldexp(m, -24);
  else if (e == 31) r = m ? NAN : INFINITY;
  else r = ldexp(m + 1024, e - 25);
  return (h & 0x8000) ? -r : r;
}

/* ---------------------------------------------------------------- scalars --------- */

static bool reads_back(const char *s, double v, unsigned width) {
  if (width == 32) return strtof(s, NULL) == (float)v;
  if (width == 16) return tm_f16_from_double(strtod(s, NULL)) == tm_f16_from_double(v);
  double r = strtod(s, NULL);
  return memcmp(&r, &v, sizeof r) == 0;
}

/* The shortest decimal that reads back to v at the type's precision, always with a '.'
 * (MLIR lexes `1e5` as the integer 1 followed by an identifier). */
static void print_float(FILE *out, double v, unsigned width) {
  char buf[48];
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (reads_back(buf, v, width)) break;
  }
  char *e = strchr(buf, 'e');
  if (strchr(buf, '.')) fputs(buf, out);
  else if (e) fprintf(out, "%.*s.0%s", (int)(e - buf), buf, e);
  else fprintf(out, "%s.0", buf);
}

static uint64_t float_bits(double v, unsigned width) {
  if (width == 16) return tm_f16_from_double(v);
  if (width == 32) {
    float f = (float)v;
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
  }
  uint64_t u;
  memcpy(&u, &v, sizeof u);
  return u;
}

static void print_hex_bits(FILE *out, uint64_t bits, unsigned width) {
  fprintf(out, "0x%0*" PRIX64, (int)(width / 4), bits);
}

/* As llvm::printEscapedString: printable ASCII stays, the rest is \XX. */
static void print_escaped(FILE *out, const char *s, size_t n) {
  fputc('"', out);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\\') fputs("\\\\", out);
    else if (c >= 0x20 && c < 0x7f && c != '"') fputc(c, out);
    else fprintf(out, "\\%02X", c);
  }
  fputc('"', out);
}

static bool is_bare_id(const char *s, size_t n) {
  if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_')) return false;
  for (size_t i = 1; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$' ||
          c == '.'))
      return false;
  }
  return true;
}

static void print_name(FILE *out, const char *s, size_t n) {
  if (is_bare_id(s, n)) fwrite(s, 1, n, out);
  else print_escaped(out, s, n);
}

static void print_symbol(FILE *out, const char *s, size_t n) {
  fputc('@', out);
  print_name(out, s, n);
}

/* ------------------------------------------------------------------ types --------- */

static void print_type_rec(FILE *out, const tm_type *t, int depth);

static void print_type_list(FILE *out, int n, const tm_type *const *ts, int depth) {
  for (int i = 0; i < n; i++) {
    if (i) fputs(", ", out);
    print_type_rec(out, ts[i], depth);
  }
}

/* A single result prints bare unless it is itself a function type. */
static void print_results(FILE *out, int n, const tm_type *const *ts, int depth) {
  if (n == 1 && ts[0] && ts[0]->kind != TM_TYPE_FUNC) {
    print_type_rec(out, ts[0], depth);
    return;
  }
  fputc('(', out);
  print_type_list(out, n, ts, depth);
  fputc(')', out);
}

static void print_quant(FILE *out, const tm_type *t, int depth) {
  const tm_type *st = t->storage;
  bool is_unsigned = st && st->kind == TM_TYPE_INT && st->signedness == TM_UNSIGNED;
  unsigned w = st && st->kind == TM_TYPE_INT ? st->width : 8;
  int64_t dmin = is_unsigned ? 0 : -(INT64_C(1) << (w - 1));
  int64_t dmax = is_unsigned ? (int64_t)((UINT64_C(1) << w) - 1) : (INT64_C(1) << (w - 1)) - 1;
  fprintf(out, "!quant.uniform<%c%u", is_unsigned ? 'u' : 'i', w);
  if (t->storage_min != dmin || t->storage_max != dmax)
    fprintf(out, "<%" PRId64 ":%" PRId64 ">", t->storage_min, t->storage_max);
  fputc(':', out);
  print_type_rec(out, t->expressed, depth);
  if (t->axis >= 0) fprintf(out, ":%d", t->axis);
  fputs(", ", out);
  bool per_axis = t->axis >= 0;
  if (per_axis) fputc('{', out);
  for (int i = 0; i < t->nscales; i++) {
    if (i) fputc(',', out);
    print_float(out, t->scales[i], 64);
    if (t->zero_points && t->zero_points[i]) fprintf(out, ":%" PRId64, t->zero_points[i]);
  }
  if (per_axis) fputc('}', out);
  fputc('>', out);
}

static void print_type_rec(FILE *out, const tm_type *t, int depth) {
  if (!t || depth > 1000) {
    fputs("<<NULL TYPE>>", out);
    return;
  }
  switch (t->kind) {
  case TM_TYPE_INT:
    fprintf(out, "%si%u", t->signedness == TM_SIGNED ? "s" : t->signedness == TM_UNSIGNED ? "u" : "", t->width);
    return;
  case TM_TYPE_FLOAT: fprintf(out, "f%u", t->width); return;
  case TM_TYPE_INDEX: fputs("index", out); return;
  case TM_TYPE_NONE: fputs("none", out); return;
  case TM_TYPE_TENSOR:
  case TM_TYPE_MEMREF:
    fputs(t->kind == TM_TYPE_TENSOR ? "tensor<" : "memref<", out);
    for (int i = 0; i < t->rank; i++) {
      if (t->dims[i] == TM_DYNAMIC) fputs("?x", out);
      else fprintf(out, "%" PRId64 "x", t->dims[i]);
    }
    print_type_rec(out, t->elem, depth + 1);
    fputc('>', out);
    return;
  case TM_TYPE_QUANT: print_quant(out, t, depth + 1); return;
  case TM_TYPE_FUNC:
    fputc('(', out);
    print_type_list(out, t->ninputs, t->inputs, depth + 1);
    fputs(") -> ", out);
    print_results(out, t->nresults, t->results, depth + 1);
    return;
  }
}

void tm_print_type(const tm_type *t, void *stdio_file) { print_type_rec(stdio_file, t, 0); }

/* ------------------------------------------------------------- attributes --------- */

/* One dense element, decoded from its little-endian storage. */
static void print_dense_elem(FILE *out, const tm_type *et, const uint8_t *p, size_t eb) {
  uint64_t bits = 0;
  for (size_t b = 0; b < eb && b < 8; b++) bits |= (uint64_t)p[b] << (8 * b);
  if (et->kind == TM_TYPE_FLOAT) {
    double v = et->width == 16 ? tm_f16_to_double((uint16_t)bits) : 0.0;
    if (et->width == 32) {
      uint32_t u = (uint32_t)bits;
      float f;
      memcpy(&f, &u, sizeof f);
      v = f;
    } else if (et->width == 64) {
      memcpy(&v, &bits, sizeof v);
    }
    if (isfinite(v)) print_float(out, v, et->width);
    else print_hex_bits(out, bits, et->width);
    return;
  }
  unsigned w = et->kind == TM_TYPE_INDEX ? 64 : et->width;
  if (w == 1) {
    fputs(bits & 1 ? "true" : "false", out);
    return;
  }
  if (w < 64) bits &= (UINT64_C(1) << w) - 1;
  if (et->kind == TM_TYPE_INT && et->signedness == TM_UNSIGNED) {
    fprintf(out, "%" PRIu64, bits);
    return;
  }
  if (w < 64 && (bits >> (w - 1)) & 1) bits |= ~((UINT64_C(1) << w) - 1);
  fprintf(out, "%" PRId64, (int64_t)bits);
}

typedef struct dense_walk {
  FILE *out;
  const tm_type *et;
  const uint8_t *data;
  size_t eb, next;
} dense_walk;

static void print_dense_dims(dense_walk *w, const tm_type *t, int d) {
  if (d == t->rank) {
    print_dense_elem(w->out, w->et, w->data + w->next * w->eb, w->eb);
    w->next++;
    return;
  }
  fputc('[', w->out);
  for (int64_t i = 0; i < t->dims[d]; i++) {
    if (i) fputs(", ", w->out);
    print_dense_dims(w, t, d + 1);
  }
  fputc(']', w->out);
}

static void print_attr_rec(FILE *out, const tm_attr *a, int hex_threshold, int depth);

static void print_dense(FILE *out, const tm_attr *a, int hex_threshold) {
  const tm_type *t = a->type;
  const tm_type *et = tm_type_storage(tm_type_elem(t));
  size_t eb = (tm_type_elem_bits(t) + 7) / 8;
  int64_t numel = tm_type_numel(t);
  fputs("dense<", out);
  if (!et || !eb || numel < 0 || a->u.dense.nbytes < (a->u.dense.splat ? eb : (size_t)numel * eb)) {
    fputs("<<INVALID DENSE>>", out); /* cannot come from the parser or tm_attr_dense */
  } else if (a->u.dense.splat) {
    print_dense_elem(out, et, a->u.dense.data, eb);
  } else if (numel > hex_threshold && !(et->kind == TM_TYPE_INT && et->width == 1)) {
    fputs("\"0x", out);
    for (size_t i = 0; i < a->u.dense.nbytes; i++) fprintf(out, "%02X", a->u.dense.data[i]);
    fputc('"', out);
  } else if (numel > 0) {
    dense_walk w = {out, et, a->u.dense.data, eb, 0};
    print_dense_dims(&w, t, 0);
  }
  fputs("> : ", out);
  print_type_rec(out, t, 0);
}

static bool is_type(const tm_type *t, tm_type_kind kind, unsigned width) {
  return t && t->kind == kind && t->width == width && (kind != TM_TYPE_INT || t->signedness == TM_SIGNLESS);
}

static void print_named(FILE *out, const tm_named_attr *e, int hex_threshold, int depth) {
  print_name(out, e->name, strlen(e->name));
  if (e->value && e->value->kind == TM_ATTR_UNIT) return;
  fputs(" = ", out);
  print_attr_rec(out, e->value, hex_threshold, depth);
}

static void print_attr_rec(FILE *out, const tm_attr *a, int hex_threshold, int depth) {
  if (!a || depth > 1000) {
    fputs("<<NULL ATTRIBUTE>>", out);
    return;
  }
  switch (a->kind) {
  case TM_ATTR_UNIT: fputs("unit", out); return;
  case TM_ATTR_INT:
    if (a->type && a->type->kind == TM_TYPE_INT && a->type->signedness == TM_UNSIGNED) {
      uint64_t v = (uint64_t)a->u.i;
      if (a->type->width < 64) v &= (UINT64_C(1) << a->type->width) - 1;
      fprintf(out, "%" PRIu64, v);
    } else {
      fprintf(out, "%" PRId64, a->u.i);
    }
    if (!is_type(a->type, TM_TYPE_INT, 64)) {
      fputs(" : ", out);
      print_type_rec(out, a->type, 0);
    }
    return;
  case TM_ATTR_FLOAT: {
    unsigned w = a->type && a->type->kind == TM_TYPE_FLOAT ? a->type->width : 64;
    if (isfinite(a->u.f)) {
      print_float(out, a->u.f, w);
      if (w == 64) return;
    } else {
      print_hex_bits(out, float_bits(a->u.f, w), w); /* MLIR's form for inf and nan */
    }
    fputs(" : ", out);
    if (a->type) print_type_rec(out, a->type, 0);
    else fputs("f64", out);
    return;
  }
  case TM_ATTR_BOOL: fputs(a->u.b ? "true" : "false", out); return;
  case TM_ATTR_STRING: print_escaped(out, a->u.str.data, a->u.str.len); return;
  case TM_ATTR_SYMREF: print_symbol(out, a->u.str.data, a->u.str.len); return;
  case TM_ATTR_ARRAY:
    fputc('[', out);
    for (int i = 0; i < a->u.array.n; i++) {
      if (i) fputs(", ", out);
      print_attr_rec(out, a->u.array.elts[i], hex_threshold, depth + 1);
    }
    fputc(']', out);
    return;
  case TM_ATTR_DICT:
    fputc('{', out);
    for (int i = 0; i < a->u.dict.n; i++) {
      if (i) fputs(", ", out);
      print_named(out, &a->u.dict.entries[i], hex_threshold, depth + 1);
    }
    fputc('}', out);
    return;
  case TM_ATTR_TYPE: print_type_rec(out, a->type, 0); return;
  case TM_ATTR_DENSE: print_dense(out, a, hex_threshold); return;
  }
}

#define TM_DEFAULT_HEX_THRESHOLD 100

void tm_print_attr(const tm_attr *a, void *stdio_file) { print_attr_rec(stdio_file, a, TM_DEFAULT_HEX_THRESHOLD, 0); }

/* -------------------------------------------------------------- locations --------- */

static void print_loc_rec(FILE *out, const tm_loc *l, int depth) {
  if (!l || depth > 1000) {
    fputs("unknown", out);
    return;
  }
  switch (l->kind) {
  case TM_LOC_UNKNOWN: fputs("unknown", out); return;
  case TM_LOC_FILE:
    print_escaped(out, l->file ? l->file : "", l->file ? strlen(l->file) : 0);
    fprintf(out, ":%d:%d", l->line, l->col);
    return;
  case TM_LOC_NAME:
    print_escaped(out, l->name ? l->name : "", l->name ? strlen(l->name) : 0);
    if (l->child) {
      fputc('(', out);
      print_loc_rec(out, l->child, depth + 1);
      fputc(')', out);
    }
    return;
  case TM_LOC_FUSED:
    if (l->nlocs == 0) { /* the parser needs at least one location */
      fputs("unknown", out);
      return;
    }
    fputs("fused[", out);
    for (int i = 0; i < l->nlocs; i++) {
      if (i) fputs(", ", out);
      print_loc_rec(out, l->locs[i], depth + 1);
    }
    fputc(']', out);
    return;
  case TM_LOC_CALLSITE:
    fputs("callsite(", out);
    print_loc_rec(out, l->child, depth + 1);
    fputs(" at ", out);
    print_loc_rec(out, l->caller, depth + 1);
    fputc(')', out);
    return;
  }
}

void tm_print_loc(const tm_loc *l, void *stdio_file) {
  fputs("loc(", stdio_file);
  print_loc_rec(stdio_file, l, 0);
  fputc(')', stdio_file);
}

/* --------------------------------------------------------------- numbering -------- */

typedef struct printer {
  FILE *out;
  tm_print_flags flags;
  /* op -> 1 + number of its result group; block argument -> 1 + (number << 1 | is_arg) */
  tm_ptrmap ids;
} printer;

typedef struct name_ctx {
  const tm_region *region;
  int next_value, next_arg;
} name_ctx;

static void number_region(printer *p, const tm_region *r, int *next_value, int *next_arg) {
  for (const tm_block *b = r->first; b; b = b->next) {
    bool entry = b == r->first;
    for (int i = 0; i < b->nargs; i++) {
      uintptr_t id = entry ? (uintptr_t)(*next_arg)++ << 1 | 1 : (uintptr_t)(*next_value)++ << 1;
      tm_ptrmap_set(&p->ids, b->args[i], (void *)(id + 1));
    }
    for (const tm_op *o = b->first; o; o = o->next)
      if (o->nresults > 0) tm_ptrmap_set(&p->ids, o, (void *)(uintptr_t)(1 + (*next_value)++));
  }
}

/* MLIR's SSANameState: a worklist of regions, each starting from the counters its
 * parent region ended with. */
static void number_values(printer *p, const tm_op *root) {
  size_t n = 0, cap = 16;
  name_ctx *stack = malloc(cap * sizeof *stack);
  if (!stack) {
    fputs("tinyml: out of memory\n", stderr);
    abort();
  }
  for (int r = root->nregions - 1; r >= 0; r--) stack[n++] = (name_ctx){&root->regions[r], 0, 0};
  if (root->nresults > 0) tm_ptrmap_set(&p->ids, root, (void *)(uintptr_t)1);
  while (n > 0) {
    name_ctx c = stack[--n];
    number_region(p, c.region, &c.next_value, &c.next_arg);
    for (const tm_block *b = c.region->first; b; b = b->next)
      for (const tm_op *o = b->first; o; o = o->next)
        for (int r = 0; r < o->nregions; r++) {
          if (n == cap) {
            cap *= 2;
            name_ctx *ns = realloc(stack, cap * sizeof *stack);
            if (!ns) {
              fputs("tinyml: out of memory\n", stderr);
              abort();
            }
            stack = ns;
          }
          stack[n++] = (name_ctx){&o->regions[r], c.next_value, c.next_arg};
        }
  }
  free(stack);
}

static void print_value(printer *p, const tm_value *v) {
  if (!v) {
    fputs("<<NULL VALUE>>", p->out);
    return;
  }
  if (v->def) {
    uintptr_t id = (uintptr_t)tm_ptrmap_get(&p->ids, v->def);
    if (!id) fputs("<<UNKNOWN SSA VALUE>>", p->out);
    else if (v->def->nresults > 1) fprintf(p->out, "%%%zu#%u", (size_t)(id - 1), v->index);
    else fprintf(p->out, "%%%zu", (size_t)(id - 1));
    return;
  }
  uintptr_t id = (uintptr_t)tm_ptrmap_get(&p->ids, v);
  if (!id) fputs("<<UNKNOWN SSA VALUE>>", p->out);
  else fprintf(p->out, "%%%s%zu", ((id - 1) & 1) ? "arg" : "", (size_t)((id - 1) >> 1));
}

/* ------------------------------------------------------------------- ops ---------- */

static void indent(printer *p, int n) { fprintf(p->out, "%*s", n, ""); }

static void print_loc_suffix(printer *p, const tm_loc *l) {
  if (!p->flags.locations) return;
  fputc(' ', p->out);
  tm_print_loc(l, p->out);
}

static void print_op(printer *p, const tm_op *op, int ind, bool custom_return, int depth);

static void print_block_arg(printer *p, const tm_value *v, bool with_name) {
  if (with_name) {
    print_value(p, v);
    fputs(": ", p->out);
  }
  print_type_rec(p->out, v->type, 0);
  if (with_name) print_loc_suffix(p, v->loc);
}

static void print_block_header(printer *p, const tm_block *b, int number, int ind) {
  indent(p, ind);
  fprintf(p->out, "^bb%d", number);
  if (b->nargs) {
    fputc('(', p->out);
    for (int i = 0; i < b->nargs; i++) {
      if (i) fputs(", ", p->out);
      print_block_arg(p, b->args[i], true);
    }
    fputc(')', p->out);
  }
  fputs(":\n", p->out);
}

/* `{ ... }` without the surrounding text.  Generic regions label an entry block that
 * has arguments or no ops (as MLIR does); custom bodies never label the entry. */
static void print_region(printer *p, const tm_region *r, int ind, bool generic, bool custom_return, int depth) {
  fputs("{\n", p->out);
  int number = 0;
  for (const tm_block *b = r->first; b; b = b->next, number++) {
    bool entry = b == r->first;
    if (!entry || (generic && (b->nargs || !b->first))) print_block_header(p, b, number, ind);
    for (const tm_op *o = b->first; o; o = o->next) print_op(p, o, ind + 2, custom_return, depth + 1);
  }
  indent(p, ind);
  fputc('}', p->out);
}

static void print_attr_dict(printer *p, const tm_named_attr *attrs, int n, const char *const *skip, int nskip) {
  bool first = true;
  for (int i = 0; i < n; i++) {
    bool skipped = false;
    for (int k = 0; k < nskip; k++) skipped |= strcmp(attrs[i].name, skip[k]) == 0;
    if (skipped) continue;
    fputs(first ? "{" : ", ", p->out);
    first = false;
    print_named(p->out, &attrs[i], p->flags.hex_threshold, 0);
  }
  if (!first) fputc('}', p->out);
}

static bool has_other_attrs(const tm_op *op, const char *const *skip, int nskip) {
  for (int i = 0; i < op->nattrs; i++) {
    bool skipped = false;
    for (int k = 0; k < nskip; k++) skipped |= strcmp(op->attrs[i].name, skip[k]) == 0;
    if (!skipped) return true;
  }
  return false;
}

static const tm_attr *attr_of_kind(const tm_op *op, const char *name, tm_attr_kind kind) {
  const tm_attr *a = tm_op_attr(op, name);
  return a && a->kind == kind ? a : NULL;
}

static bool is_plain(const tm_op *op) { return op->noperands == 0 && op->nresults == 0 && op->nregions == 1; }

static bool module_is_custom(const tm_op *op) {
  const tm_attr *sym = tm_op_attr(op, "sym_name");
  const tm_block *b = op->regions ? op->regions[0].first : NULL;
  return is_plain(op) && (!sym || sym->kind == TM_ATTR_STRING) && (!b || (!b->next && !b->nargs));
}

static const char *const module_skip[] = {"sym_name"};
static const char *const func_skip[] = {"function_type", "sym_name", "sym_visibility"};

static void print_module(printer *p, const tm_op *op, int ind, int depth) {
  fputs("module", p->out);
  const tm_attr *sym = tm_op_attr(op, "sym_name");
  if (sym) {
    fputc(' ', p->out);
    print_symbol(p->out, sym->u.str.data, sym->u.str.len);
  }
  if (has_other_attrs(op, module_skip, 1)) {
    fputs(" attributes ", p->out);
    print_attr_dict(p, op->attrs, op->nattrs, module_skip, 1);
  }
  fputc(' ', p->out);
  print_region(p, &op->regions[0], ind, false, false, depth);
}

static bool func_is_custom(const tm_op *op) {
  if (!is_plain(op)) return false;
  const tm_attr *ft = attr_of_kind(op, "function_type", TM_ATTR_TYPE);
  const tm_attr *vis = tm_op_attr(op, "sym_visibility");
  if (!ft || !ft->type || ft->type->kind != TM_TYPE_FUNC || !attr_of_kind(op, "sym_name", TM_ATTR_STRING)) return false;
  if (tm_op_attr(op, "arg_attrs") || tm_op_attr(op, "res_attrs")) return false;
  if (vis && (vis->kind != TM_ATTR_STRING || (strcmp(vis->u.str.data, "private") && strcmp(vis->u.str.data, "public") &&
                                              strcmp(vis->u.str.data, "nested"))))
    return false;
  const tm_block *entry = op->regions[0].first;
  if (!entry) return true;
  if (entry->nargs != ft->type->ninputs) return false;
  for (int i = 0; i < entry->nargs; i++)
    if (entry->args[i]->type != ft->type->inputs[i]) return false;
  return true;
}

static void print_func(printer *p, const tm_op *op, int ind, int depth) {
  const tm_type *ft = tm_op_attr(op, "function_type")->type;
  const tm_attr *sym = tm_op_attr(op, "sym_name");
  const tm_attr *vis = tm_op_attr(op, "sym_visibility");
  const tm_block *entry = op->regions[0].first;
  fputs("func.func ", p->out);
  if (vis) fprintf(p->out, "%s ", vis->u.str.data);
  print_symbol(p->out, sym->u.str.data, sym->u.str.len);
  fputc('(', p->out);
  for (int i = 0; i < ft->ninputs; i++) {
    if (i) fputs(", ", p->out);
    if (entry) print_block_arg(p, entry->args[i], true);
    else print_type_rec(p->out, ft->inputs[i], 0);
  }
  fputc(')', p->out);
  if (ft->nresults) {
    fputs(" -> ", p->out);
    print_results(p->out, ft->nresults, ft->results, 0);
  }
  if (has_other_attrs(op, func_skip, 3)) {
    fputs(" attributes ", p->out);
    print_attr_dict(p, op->attrs, op->nattrs, func_skip, 3);
  }
  if (entry) {
    fputc(' ', p->out);
    print_region(p, &op->regions[0], ind, false, true, depth);
  }
}

static void print_operands(printer *p, const tm_op *op) {
  for (int i = 0; i < op->noperands; i++) {
    if (i) fputs(", ", p->out);
    print_value(p, op->operands[i].value);
  }
}

static void print_return(printer *p, const tm_op *op) {
  fputs("return", p->out);
  if (!op->noperands) return;
  fputc(' ', p->out);
  print_operands(p, op);
  fputs(" : ", p->out);
  for (int i = 0; i < op->noperands; i++) {
    if (i) fputs(", ", p->out);
    print_type_rec(p->out, op->operands[i].value ? op->operands[i].value->type : NULL, 0);
  }
}

static void print_generic(printer *p, const tm_op *op, int ind, int depth) {
  print_escaped(p->out, op->name, strlen(op->name));
  fputc('(', p->out);
  print_operands(p, op);
  fputc(')', p->out);
  if (op->nregions) {
    fputs(" (", p->out);
    for (int r = 0; r < op->nregions; r++) {
      if (r) fputs(", ", p->out);
      print_region(p, &op->regions[r], ind, true, false, depth);
    }
    fputc(')', p->out);
  }
  if (op->nattrs) {
    fputc(' ', p->out);
    print_attr_dict(p, op->attrs, op->nattrs, NULL, 0);
  }
  fputs(" : (", p->out);
  for (int i = 0; i < op->noperands; i++) {
    if (i) fputs(", ", p->out);
    print_type_rec(p->out, op->operands[i].value ? op->operands[i].value->type : NULL, 0);
  }
  fputs(") -> ", p->out);
  if (op->nresults == 1 && op->results[0].type && op->results[0].type->kind != TM_TYPE_FUNC) {
    print_type_rec(p->out, op->results[0].type, 0);
  } else {
    fputc('(', p->out);
    for (int i = 0; i < op->nresults; i++) {
      if (i) fputs(", ", p->out);
      print_type_rec(p->out, op->results[i].type, 0);
    }
    fputc(')', p->out);
  }
}

static void print_op(printer *p, const tm_op *op, int ind, bool custom_return, int depth) {
  indent(p, ind);
  if (depth > 1000) { /* the parser nests far less; this only guards API-built cycles */
    fputs("<<NESTING TOO DEEP>>\n", p->out);
    return;
  }
  if (op->nresults > 0) {
    uintptr_t id = (uintptr_t)tm_ptrmap_get(&p->ids, op);
    if (id) fprintf(p->out, "%%%zu", (size_t)(id - 1));
    else fputs("<<UNKNOWN SSA VALUE>>", p->out);
    if (op->nresults > 1) fprintf(p->out, ":%d", op->nresults);
    fputs(" = ", p->out);
  }
  bool generic = p->flags.generic;
  if (!generic && tm_op_is(op, "builtin.module") && module_is_custom(op)) print_module(p, op, ind, depth);
  else if (!generic && tm_op_is(op, "func.func") && func_is_custom(op)) print_func(p, op, ind, depth);
  else if (!generic && custom_return && tm_op_is(op, "func.return")) print_return(p, op);
  else print_generic(p, op, ind, depth);
  print_loc_suffix(p, op->loc);
  fputc('\n', p->out);
}

void tm_print_op(tm_ctx *ctx, const tm_op *op, const tm_print_flags *flags, void *stdio_file) {
  (void)ctx;
  printer p = {.out = stdio_file};
  if (flags) p.flags = *flags;
  if (p.flags.hex_threshold <= 0) p.flags.hex_threshold = TM_DEFAULT_HEX_THRESHOLD;
  if (!op) {
    fputs("<<NULL OP>>\n", p.out);
    return;
  }
  number_values(&p, op);
  /* A func.return printed on its own is still inside a custom func body. */
  tm_op *parent = tm_op_parent(op);
  print_op(&p, op, 0, parent && tm_op_is(parent, "func.func"), 0);
  tm_ptrmap_free(&p.ids);
}

/* --------------------------------------------------------------- to string -------- */

typedef struct strbuf {
  char *data;
  size_t len;
  FILE *f;
} strbuf;

static FILE *sb_open(strbuf *sb) {
  sb->data = NULL;
  sb->len = 0;
  sb->f = open_memstream(&sb->data, &sb->len);
  if (!sb->f) {
    fputs("tinyml: out of memory\n", stderr);
    abort();
  }
  return sb->f;
}

static const char *sb_close(tm_ctx *ctx, strbuf *sb) {
  fclose(sb->f);
  size_t n = sb->len;
  while (n > 0 && sb->data[n - 1] == '\n') n--;
  char *s = tm_arena_alloc(ctx->arena, n + 1, 1);
  memcpy(s, sb->data, n);
  free(sb->data);
  return s;
}

const char *tm_type_str(tm_ctx *ctx, const tm_type *t) {
  strbuf sb;
  tm_print_type(t, sb_open(&sb));
  return sb_close(ctx, &sb);
}

const char *tm_attr_str(tm_ctx *ctx, const tm_attr *a) {
  strbuf sb;
  tm_print_attr(a, sb_open(&sb));
  return sb_close(ctx, &sb);
}

const char *tm_op_str(tm_ctx *ctx, const tm_op *op, const tm_print_flags *flags) {
  strbuf sb;
  tm_print_op(ctx, op, flags, sb_open(&sb));
  return sb_close(ctx, &sb);
}
