/* frontend/parse_internal.h — (private to frontend/) the state shared by the generated
 * lexer (lexer.l), the generated parser (parser.y) and the semantic actions (parse.c).
 *
 * The grammar stays declarative: every action is one call into parse.c, which builds
 * the IR directly (no AST) and reports located errors.  The first error stops the parse,
 * as in mlir-opt. */
#ifndef TM_PARSE_INTERNAL_H
#define TM_PARSE_INTERNAL_H

#include "frontend/frontend.h"

/* Bracket nesting limit ((, [, {, <): bounds every recursion in the parser, the
 * verifier and the printer. */
#define TM_MAX_NESTING 256

/* A token: its spelling in the lexer's buffer (valid until the parse ends). */
typedef struct tm_tok {
  const char *s;
  size_t len;
} tm_tok;

/* Bison's location type (field names are the ones YYLLOC_DEFAULT expects). */
typedef struct tm_span {
  int first_line, first_column, last_line, last_column;
} tm_span;

/* Growable arena-backed vector of pointers (lists in the grammar). */
typedef struct tm_pvec {
  void **v;
  int n, cap;
} tm_pvec;

/* A use of an SSA value before its type is known: %name or %name#k. */
typedef struct tm_puse {
  const char *name; /* interned, without '%' */
  int64_t index;
  tm_span at;
} tm_puse;

/* %name or %name:count on the left of '='. */
typedef struct tm_pdef {
  const char *name;
  int64_t count;
  tm_span at;
} tm_pdef;

/* A named attribute while parsing a dictionary. */
typedef struct tm_pnamed {
  const char *name;
  const tm_attr *value;
  tm_span at;
} tm_pnamed;

/* A dense literal before its type is known: a nested list or a scalar leaf. */
typedef enum { TM_DL_LIST, TM_DL_INT, TM_DL_FLOAT, TM_DL_BOOL } tm_dl_kind;
typedef struct tm_dlit {
  tm_dl_kind kind;
  bool neg;        /* INT, FLOAT: a leading '-' */
  bool b;          /* BOOL */
  tm_tok tok;      /* INT, FLOAT: the literal without its sign */
  tm_pvec elts;    /* LIST */
  tm_span at;
} tm_dlit;

/* A signed integer with its position (quant storage range, axis). */
typedef struct tm_pint {
  int64_t v;
  tm_span at;
} tm_pint;

/* One quantization parameter: scale[:zero_point]. */
typedef struct tm_pquant {
  double scale;
  int64_t zp;
  tm_span at;
} tm_pquant;

/* A function argument: `%name: type loc(...)` or just `type` (declarations). */
typedef struct tm_parg {
  const char *name; /* NULL for a bare type */
  const tm_type *type;
  const tm_loc *loc; /* NULL: the name's position */
  tm_span at;
} tm_parg;

/* A parsed region: its blocks, not yet attached to an op. */
typedef struct tm_pregion {
  tm_pvec blocks;
} tm_pregion;

/* What an op being parsed tells the regions it is about to parse. */
typedef struct tm_popctx {
  struct tm_popctx *parent;
  bool isolated;       /* regions do not see outer names */
  bool single_block;   /* builtin.module: the body always has its one block */
  tm_pvec *entry_args; /* func.func: tm_parg list defining the entry block */
  const char *name;    /* op name, for messages */
} tm_popctx;

typedef struct tm_iscope tm_iscope;
typedef struct tm_rframe tm_rframe;

/* Interned-string -> pointer map in the arena (names, labels, aliases). */
typedef struct tm_pmap {
  struct tm_pslot *slots;
  size_t cap, count;
} tm_pmap;

typedef enum { TM_START_MODULE, TM_START_TYPE, TM_START_ATTR } tm_start_kind;

typedef struct tm_pstate {
  tm_ctx *ctx;
  const char *file; /* interned */
  int line_offset;  /* added to lexer lines (split-input-file) */
  bool allow_unregistered;
  tm_start_kind start;
  bool start_sent;  /* the lexer has returned the start token */
  int depth;        /* bracket nesting, maintained by the lexer */
  bool failed;      /* an error was reported */
  /* results */
  const tm_type *type_result;
  const tm_attr *attr_result;
  tm_block *top;    /* top-level ops */
  /* name tables */
  tm_iscope *iscope;
  tm_rframe *frame;
  tm_popctx *opctx;
  tm_pmap type_aliases, attr_aliases;
} tm_pstate;

/* ------------------------------------------------------------------ support ------- */
const tm_loc *tm_p_loc(tm_pstate *ps, tm_span at);
/* Reports a located error and marks the parse failed; returns false for `if (!...)`. */
bool tm_p_error(tm_pstate *ps, tm_span at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void tm_p_push(tm_pstate *ps, tm_pvec *v, void *item);
tm_pvec *tm_p_vec(tm_pstate *ps, void *first); /* new vector holding first (if non-NULL) */

/* -------------------------------------------------------------------- types ------- */
const tm_type *tm_p_int_type(tm_pstate *ps, tm_tok t, tm_span at);
const tm_type *tm_p_float_type(tm_pstate *ps, tm_tok t, tm_span at);
/* dims NULL: rank 0.  The element type is checked here (located at elem_at). */
const tm_type *tm_p_shaped(tm_pstate *ps, bool memref, const tm_tok *dims, tm_span dims_at,
                           const tm_type *elem, tm_span elem_at);
/* tensor<0xf32>: the lexer saw the hex literal 0xf32. */
const tm_type *tm_p_shaped_hexdim(tm_pstate *ps, bool memref, tm_tok tok, tm_span at);
const tm_type *tm_p_func_type(tm_pstate *ps, tm_pvec *inputs, tm_pvec *results);
/* range: NULL or two tm_pint; axis: NULL for per-tensor; params: tm_pquant list. */
const tm_type *tm_p_quant(tm_pstate *ps, tm_tok storage, tm_span storage_at, tm_pvec *range,
                          const tm_type *expressed, tm_span expressed_at, tm_pint *axis,
                          bool per_axis, tm_pvec *params);
tm_pint *tm_p_signed_int(tm_pstate *ps, tm_tok t, bool neg, tm_span at);
bool tm_p_number(tm_pstate *ps, tm_tok t, bool neg, tm_span at, double *out);
tm_pquant *tm_p_quant_param(tm_pstate *ps, double scale, int64_t zp, tm_span at);
const tm_type *tm_p_type_alias_use(tm_pstate *ps, tm_tok t, tm_span at);
bool tm_p_type_alias_def(tm_pstate *ps, tm_tok t, const tm_type *type, tm_span at);

/* --------------------------------------------------------------- attributes ------- */
const tm_attr *tm_p_attr_alias_use(tm_pstate *ps, tm_tok t, tm_span at);
bool tm_p_attr_alias_def(tm_pstate *ps, tm_tok t, const tm_attr *attr, tm_span at);
/* An integer literal with an optional type (type NULL: i64); a float type makes a hex
 * literal the float's bit pattern. */
const tm_attr *tm_p_int_attr(tm_pstate *ps, tm_tok t, bool neg, tm_span at, const tm_type *type,
                             tm_span type_at);
const tm_attr *tm_p_float_attr(tm_pstate *ps, tm_tok t, bool neg, tm_span at, const tm_type *type,
                               tm_span type_at);
const tm_attr *tm_p_string_attr(tm_pstate *ps, tm_tok t, tm_span at);
const tm_attr *tm_p_symref_attr(tm_pstate *ps, tm_tok t, tm_span at);
const tm_attr *tm_p_array_attr(tm_pstate *ps, tm_pvec *elts);
/* array<T: v, ...>: an array of T-typed integer or float attributes. */
const tm_attr *tm_p_dense_array(tm_pstate *ps, const tm_type *elem, tm_span elem_at, tm_pvec *vals);
/* value NULL: a unit attribute ({flag}). */
tm_pnamed *tm_p_named(tm_pstate *ps, tm_tok name, bool quoted, const tm_attr *value, tm_span at);
const tm_attr *tm_p_dict_attr(tm_pstate *ps, tm_pvec *entries);
tm_dlit *tm_p_dl_scalar(tm_pstate *ps, tm_dl_kind kind, tm_tok t, bool neg, tm_span at);
tm_dlit *tm_p_dl_bool(tm_pstate *ps, bool b, tm_span at);
tm_dlit *tm_p_dl_list(tm_pstate *ps, tm_pvec *elts, tm_span at);
/* dense<> (lit and hex NULL), dense<"0x..."> (hex) or dense<literal>, checked against
 * the type. */
const tm_attr *tm_p_dense(tm_pstate *ps, tm_dlit *lit, const tm_tok *hex, tm_span lit_at,
                          const tm_type *type, tm_span type_at);

/* ---------------------------------------------------------------- locations ------- */
const tm_loc *tm_p_loc_file(tm_pstate *ps, tm_tok file, tm_span file_at, tm_tok line, tm_span line_at,
                            tm_tok col, tm_span col_at);
const tm_loc *tm_p_loc_name(tm_pstate *ps, tm_tok name, tm_span at, const tm_loc *child);
const tm_loc *tm_p_loc_fused(tm_pstate *ps, tm_pvec *locs);

/* -------------------------------------------------------------- ops, regions ------- */
tm_puse *tm_p_use(tm_pstate *ps, tm_tok t, tm_span at);
tm_pdef *tm_p_def(tm_pstate *ps, tm_tok t, tm_span at, const tm_tok *count, tm_span count_at);
/* name NULL: a bare type (function declarations). */
tm_parg *tm_p_arg(tm_pstate *ps, const tm_tok *name, const tm_type *type, const tm_loc *loc, tm_span at);
/* Op contexts: pushed before an op's regions are parsed, popped once it is built. */
bool tm_p_begin_generic(tm_pstate *ps, tm_tok name, tm_span at);
void tm_p_begin_custom(tm_pstate *ps, const char *name, tm_pvec *entry_args);
void tm_p_end_op(tm_pstate *ps);
bool tm_p_region_begin(tm_pstate *ps);
tm_pregion *tm_p_region_end(tm_pstate *ps);
bool tm_p_block_label(tm_pstate *ps, tm_tok name, tm_span at, tm_pvec *args);
tm_op *tm_p_generic_op(tm_pstate *ps, tm_span name_at, tm_pvec *operands, tm_pvec *regions,
                       tm_pvec *attrs, const tm_type *ftype, tm_span type_at);
tm_op *tm_p_module_op(tm_pstate *ps, tm_tok sym, tm_pvec *attrs, tm_pregion *body, tm_span at);
tm_op *tm_p_func_op(tm_pstate *ps, const char *visibility, tm_tok sym, tm_span sym_at, tm_pvec *args,
                    tm_pvec *results, tm_pvec *attrs, tm_pregion *body, tm_span at);
tm_op *tm_p_return_op(tm_pstate *ps, tm_pvec *operands, tm_pvec *types, tm_span at, tm_span types_at);
/* Binds result names, sets the location (loc NULL: `at`) and appends the op to the
 * current block. */
bool tm_p_finish_op(tm_pstate *ps, tm_op *op, tm_pvec *defs, const tm_loc *loc, tm_span at);

/* Runs the generated lexer and parser over text (lexer.l); false after an error. */
bool tm_p_run(tm_pstate *ps, const char *text, size_t len);

#endif /* TM_PARSE_INTERNAL_H */
