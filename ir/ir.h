/* ir/ir.h — the tinyml IR: everything a pass author needs.
 *
 * Modelled on MLIR.  A context (tm_ctx) owns all memory (arenas), interns types,
 * attributes and strings, holds the op registry and the diagnostic engine.  There is
 * no global mutable state: two contexts never share anything.
 *
 * Structure:  module op -> region -> block -> ops; ops own regions; blocks have
 * arguments; every value (op result or block argument) keeps a doubly linked use
 * list, so replace-all-uses, erase and move are O(uses).
 *
 * Memory: everything is arena-allocated and freed with the context.  Erased ops are
 * unlinked and dropped; their memory is reclaimed when the context is destroyed. */
#ifndef TM_IR_H
#define TM_IR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TM_COUNTOF(a) (sizeof(a) / sizeof((a)[0]))

typedef struct tm_ctx tm_ctx;
typedef struct tm_arena tm_arena;
typedef struct tm_type tm_type;
typedef struct tm_attr tm_attr;
typedef struct tm_loc tm_loc;
typedef struct tm_value tm_value;
typedef struct tm_use tm_use;
typedef struct tm_op tm_op;
typedef struct tm_block tm_block;
typedef struct tm_region tm_region;
typedef struct tm_opdef tm_opdef;
typedef struct tm_rewriter tm_rewriter;
typedef struct tm_builder tm_builder;

/* ---------------------------------------------------------------- arena ----------- */
/* Bump allocator; memory lives until tm_arena_free.  Allocation failure aborts the
 * process (the only place that may: running out of memory is not bad input). */
tm_arena *tm_arena_new(void);
void tm_arena_free(tm_arena *a);
void *tm_arena_alloc(tm_arena *a, size_t size, size_t align); /* zeroed */
#define TM_NEW(arena, T) ((T *)tm_arena_alloc((arena), sizeof(T), _Alignof(T)))
#define TM_NEW_ARRAY(arena, T, n) ((T *)tm_arena_alloc((arena), sizeof(T) * (size_t)(n), _Alignof(T)))

/* Pointer -> pointer map (clone remapping, verifier scopes, the backends' value tables).
 * No deletion: callers overwrite with a sentinel instead.  With `arena` set its slots
 * come from that arena and tm_ptrmap_free is not needed; else from the heap. */
typedef struct tm_ptrmap {
  struct tm_ptrslot { const void *key; void *val; } *slots;
  size_t cap, count;
  tm_arena *arena;
} tm_ptrmap;
void *tm_ptrmap_get(const tm_ptrmap *m, const void *key); /* NULL if absent */
void tm_ptrmap_set(tm_ptrmap *m, const void *key, void *val);
void tm_ptrmap_free(tm_ptrmap *m);

/* ---------------------------------------------------------------- context --------- */
tm_ctx *tm_ctx_new(void);   /* registers the builtin, func, tm, arith, scf, memref and math dialects */
void tm_ctx_free(tm_ctx *ctx);
tm_arena *tm_ctx_arena(tm_ctx *ctx);
const char *tm_intern(tm_ctx *ctx, const char *s, size_t len); /* equal strings -> same pointer */
const char *tm_intern_cstr(tm_ctx *ctx, const char *s);
char *tm_arena_printf(tm_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --------------------------------------------------------------- locations -------- */
typedef enum {
  TM_LOC_UNKNOWN,  /* loc(unknown) */
  TM_LOC_FILE,     /* loc("file":line:col) */
  TM_LOC_NAME,     /* loc("name") or loc("name"(child)) */
  TM_LOC_FUSED,    /* loc(fused[a, b]) */
  TM_LOC_CALLSITE, /* loc(callsite(callee at caller)) */
} tm_loc_kind;

struct tm_loc {
  tm_loc_kind kind;
  const char *file; /* FILE: interned path */
  int line, col;    /* FILE: 1-based */
  const char *name; /* NAME: interned */
  const tm_loc *child;  /* NAME: optional child; CALLSITE: callee */
  const tm_loc *caller; /* CALLSITE */
  int nlocs;            /* FUSED */
  const tm_loc *const *locs;
};
const tm_loc *tm_loc_unknown(tm_ctx *ctx);
const tm_loc *tm_loc_file(tm_ctx *ctx, const char *file, int line, int col);
const tm_loc *tm_loc_name(tm_ctx *ctx, const char *name, const tm_loc *child /*may be NULL*/);
const tm_loc *tm_loc_fused(tm_ctx *ctx, int n, const tm_loc *const *locs);
const tm_loc *tm_loc_callsite(tm_ctx *ctx, const tm_loc *callee, const tm_loc *caller);
/* The first FILE location inside loc (through names, fused, callsites), or NULL. */
const tm_loc *tm_loc_find_file(const tm_loc *loc);

/* ------------------------------------------------------------- diagnostics -------- */
typedef enum { TM_DIAG_NOTE, TM_DIAG_REMARK, TM_DIAG_WARNING, TM_DIAG_ERROR } tm_diag_severity;

typedef struct tm_diag {
  tm_diag_severity severity;
  const tm_loc *loc;
  const char *message; /* arena string, no trailing newline */
} tm_diag;

/* A handler sees every diagnostic.  The default handler prints
 * "file:line:col: error: message", the source line and a caret to stderr. */
typedef void (*tm_diag_handler)(tm_ctx *ctx, const tm_diag *d, void *user);
void tm_diag_set_handler(tm_ctx *ctx, tm_diag_handler fn, void *user);
void tm_diag_default_handler(tm_ctx *ctx, const tm_diag *d, void *user);
void tm_diag_print(tm_ctx *ctx, const tm_diag *d, void *stdio_file); /* FILE* */
/* Register a source buffer so diagnostics can show the offending line. */
void tm_ctx_add_source(tm_ctx *ctx, const char *file, const char *text, size_t len);
/* Same for a part of a file whose text[0] is on line first_line (split-input chunks).
 * A buffer lying inside one already registered for the file is ignored; another
 * buffer for the same file replaces the old one. */
void tm_ctx_add_source_at(tm_ctx *ctx, const char *file, const char *text, size_t len, int first_line);
bool tm_ctx_source_line(tm_ctx *ctx, const char *file, int line, const char **text, size_t *len);

void tm_emit(tm_ctx *ctx, tm_diag_severity sev, const tm_loc *loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void tm_emitv(tm_ctx *ctx, tm_diag_severity sev, const tm_loc *loc, const char *fmt, va_list ap);
#define tm_error(ctx, loc, ...) tm_emit((ctx), TM_DIAG_ERROR, (loc), __VA_ARGS__)
#define tm_warning(ctx, loc, ...) tm_emit((ctx), TM_DIAG_WARNING, (loc), __VA_ARGS__)
#define tm_note(ctx, loc, ...) tm_emit((ctx), TM_DIAG_NOTE, (loc), __VA_ARGS__)
/* Error located at an op; returns -1 so verifiers can `return tm_op_error(...)`. */
int tm_op_error(tm_ctx *ctx, const tm_op *op, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int tm_ctx_error_count(tm_ctx *ctx);

/* ------------------------------------------------------------------- types -------- */
typedef enum {
  TM_TYPE_INT,    /* i1 i4 i8 i16 i32 i64 (signless), si8, ui8 ... */
  TM_TYPE_FLOAT,  /* f16 f32 f64 */
  TM_TYPE_INDEX,  /* index */
  TM_TYPE_NONE,   /* none */
  TM_TYPE_TENSOR, /* tensor<2x3xf32>, tensor<?x4xi8>, tensor<f32> */
  TM_TYPE_MEMREF, /* memref<2x3xi8> */
  TM_TYPE_QUANT,  /* !quant.uniform<...> */
  TM_TYPE_FUNC,   /* (i8, f32) -> tensor<...> */
} tm_type_kind;

typedef enum { TM_SIGNLESS, TM_SIGNED, TM_UNSIGNED } tm_signedness;
#define TM_DYNAMIC INT64_MIN /* a '?' dimension */

/* Types are interned: equal types are the same pointer; compare with ==. */
struct tm_type {
  tm_type_kind kind;
  unsigned width;           /* INT, FLOAT: bits */
  tm_signedness signedness; /* INT */
  /* TENSOR, MEMREF */
  const tm_type *elem;
  int rank;
  const int64_t *dims;
  /* QUANT: storage<storage_min:storage_max>:expressed[:axis], scales:zero_points */
  const tm_type *storage, *expressed;
  int64_t storage_min, storage_max; /* defaults: full range of the storage type */
  int axis;                         /* -1 = per-tensor */
  int nscales;                      /* 1 per-tensor, else the axis size */
  const double *scales;
  const int64_t *zero_points;
  /* FUNC */
  int ninputs, nresults;
  const tm_type *const *inputs;
  const tm_type *const *results;
};

const tm_type *tm_type_int(tm_ctx *ctx, unsigned width);
const tm_type *tm_type_int_signed(tm_ctx *ctx, unsigned width, tm_signedness s);
const tm_type *tm_type_float(tm_ctx *ctx, unsigned width); /* 16, 32, 64 */
const tm_type *tm_type_index(tm_ctx *ctx);
const tm_type *tm_type_none(tm_ctx *ctx);
const tm_type *tm_type_tensor(tm_ctx *ctx, const tm_type *elem, int rank, const int64_t *dims);
const tm_type *tm_type_memref(tm_ctx *ctx, const tm_type *elem, int rank, const int64_t *dims);
/* nscales == 1 and axis == -1: per-tensor.  zero_points may be NULL (all 0). */
const tm_type *tm_type_quant(tm_ctx *ctx, const tm_type *storage, const tm_type *expressed,
                             int64_t storage_min, int64_t storage_max, int axis, int nscales,
                             const double *scales, const int64_t *zero_points);
const tm_type *tm_type_func(tm_ctx *ctx, int ninputs, const tm_type *const *inputs, int nresults,
                            const tm_type *const *results);

bool tm_type_is_shaped(const tm_type *t);    /* tensor or memref */
bool tm_type_is_static(const tm_type *t);    /* shaped without '?' dims, or scalar */
const tm_type *tm_type_elem(const tm_type *t); /* shaped: element type; else t */
int64_t tm_type_numel(const tm_type *t);     /* static shaped: product of dims; -1 if dynamic */
/* Storage bits of one element (quant: storage width; i1: 8; i4: 8 = one per byte). */
unsigned tm_type_elem_bits(const tm_type *t);
int64_t tm_type_bytes(const tm_type *t);     /* numel * storage bytes, -1 if dynamic */
/* Same shape, another element type (tensor stays tensor, memref stays memref). */
const tm_type *tm_type_with_elem(tm_ctx *ctx, const tm_type *shaped, const tm_type *elem);
/* Quant: the storage type; other types unchanged. */
const tm_type *tm_type_storage(const tm_type *t);

/* --------------------------------------------------------------- attributes ------- */
typedef enum {
  TM_ATTR_UNIT,   /* unit */
  TM_ATTR_INT,    /* 42 : i64  (default type i64) */
  TM_ATTR_FLOAT,  /* 1.5 : f32 (default type f64) */
  TM_ATTR_BOOL,   /* true / false */
  TM_ATTR_STRING, /* "text" */
  TM_ATTR_ARRAY,  /* [a, b, c] */
  TM_ATTR_DICT,   /* {a = 1, b = "x"}  (entries sorted by name) */
  TM_ATTR_TYPE,   /* a type used as an attribute */
  TM_ATTR_SYMREF, /* @name */
  TM_ATTR_DENSE,  /* dense<...> : tensor<...> */
} tm_attr_kind;

typedef struct tm_named_attr {
  const char *name; /* interned */
  const tm_attr *value;
} tm_named_attr;

/* Attributes are interned and immutable: equal attributes are the same pointer. */
struct tm_attr {
  tm_attr_kind kind;
  const tm_type *type; /* INT, FLOAT: scalar type; DENSE: shaped type; TYPE: the type */
  union {
    int64_t i;   /* INT */
    double f;    /* FLOAT */
    bool b;      /* BOOL */
    struct { const char *data; size_t len; } str; /* STRING (interned), SYMREF name */
    struct { int n; const tm_attr *const *elts; } array;
    struct { int n; const tm_named_attr *entries; } dict;
    /* DENSE: little-endian elements in storage layout (i1, i4 one byte each; f16 as
     * IEEE half bits).  A splat stores one element. */
    struct { bool splat; size_t nbytes; const uint8_t *data; } dense;
  } u;
};

const tm_attr *tm_attr_unit(tm_ctx *ctx);
const tm_attr *tm_attr_int(tm_ctx *ctx, const tm_type *type, int64_t v); /* type NULL: i64 */
const tm_attr *tm_attr_float(tm_ctx *ctx, const tm_type *type, double v); /* type NULL: f64 */
const tm_attr *tm_attr_bool(tm_ctx *ctx, bool v);
const tm_attr *tm_attr_string(tm_ctx *ctx, const char *s, size_t len);
const tm_attr *tm_attr_cstr(tm_ctx *ctx, const char *s);
const tm_attr *tm_attr_array(tm_ctx *ctx, int n, const tm_attr *const *elts);
const tm_attr *tm_attr_int_array(tm_ctx *ctx, int n, const int64_t *v); /* [i64...] */
const tm_attr *tm_attr_dict(tm_ctx *ctx, int n, const tm_named_attr *entries); /* sorts */
const tm_attr *tm_attr_type(tm_ctx *ctx, const tm_type *t);
const tm_attr *tm_attr_symref(tm_ctx *ctx, const char *name, size_t len);
/* data holds numel (or 1 if splat) elements of the storage element type of `type`. */
const tm_attr *tm_attr_dense(tm_ctx *ctx, const tm_type *type, bool splat, const void *data,
                             size_t nbytes);

/* Dense element access by flat (row-major) index; splats answer for every index. */
int64_t tm_dense_numel(const tm_attr *a);
int64_t tm_dense_get_int(const tm_attr *a, int64_t i);  /* sign- or zero-extended */
double tm_dense_get_float(const tm_attr *a, int64_t i); /* floats; ints converted */
/* IEEE half <-> double, round to nearest even (overflow gives infinity); ir/printer.c. */
uint16_t tm_f16_from_double(double d);
double tm_f16_to_double(uint16_t h);
/* Attribute helpers: dict lookup, int arrays. */
const tm_attr *tm_attr_dict_get(const tm_attr *dict, const char *name);
bool tm_attr_get_int_array(const tm_attr *a, int max, int64_t *out, int *n);

/* --------------------------------------------------------------- values ----------- */
struct tm_use {
  tm_value *value; /* the used value */
  tm_op *user;     /* the op whose operand this is */
  unsigned index;  /* operand index in user */
  tm_use *prev, *next; /* in value->uses */
};

struct tm_value {
  const tm_type *type;
  tm_op *def;        /* defining op, or NULL for a block argument */
  tm_block *block;   /* block argument: owning block */
  unsigned index;    /* result index, or argument index */
  tm_use *uses;      /* first use */
  const tm_loc *loc; /* block arguments: their location */
};

bool tm_value_has_uses(const tm_value *v);
bool tm_value_has_one_use(const tm_value *v);
int tm_value_num_uses(const tm_value *v);
void tm_value_replace_all_uses(tm_value *from, tm_value *to);
/* Replace uses except those whose user is `except`. */
void tm_value_replace_uses_except(tm_value *from, tm_value *to, const tm_op *except);
#define TM_FOREACH_USE(u, v) for (tm_use *u = (v)->uses, *u##_next = u ? u->next : NULL; u; \
                                  u = u##_next, u##_next = u ? u->next : NULL)

/* ------------------------------------------------------------------- ops ---------- */
struct tm_op {
  const char *name;      /* interned, e.g. "tm.conv2d" */
  const tm_opdef *def;   /* registry entry, NULL if unregistered */
  const tm_loc *loc;
  int noperands, nresults, nattrs, nregions;
  tm_use *operands;      /* operands[i].value */
  tm_value *results;     /* results[i] */
  tm_named_attr *attrs;  /* sorted by name */
  tm_region *regions;
  tm_block *block;       /* parent block, NULL if detached */
  tm_op *prev, *next;    /* in parent block */
  int operand_cap, attr_cap;
};

struct tm_region {
  tm_op *op; /* parent op */
  tm_block *first, *last;
};

struct tm_block {
  tm_region *region; /* parent region, NULL if detached */
  tm_block *prev, *next;
  int nargs, arg_cap;
  tm_value **args;
  tm_op *first, *last;
};

/* Everything needed to create an op.  Arrays are copied. */
typedef struct tm_op_state {
  const char *name;
  const tm_loc *loc;
  int noperands;
  tm_value *const *operands;
  int nresults;
  const tm_type *const *result_types;
  int nattrs;
  const tm_named_attr *attrs;
  int nregions; /* empty regions are created; fill them with tm_region_add_block */
} tm_op_state;

tm_op *tm_op_create(tm_ctx *ctx, const tm_op_state *st); /* detached */
/* Deep copy (regions included); operands defined inside op are remapped. */
tm_op *tm_op_clone(tm_ctx *ctx, const tm_op *op);
void tm_op_insert_before(tm_op *pos, tm_op *op);
void tm_op_insert_after(tm_op *pos, tm_op *op);
void tm_op_move_before(tm_op *op, tm_op *pos);
void tm_op_remove(tm_op *op);      /* unlink from its block, keep operands */
/* Unlink and drop operand uses (recursively for nested ops).  Results must be unused. */
void tm_op_erase(tm_op *op);
/* Replace all uses of op's results with values[], then erase op. */
void tm_op_replace(tm_op *op, tm_value *const *values);

static inline tm_value *tm_op_operand(const tm_op *op, int i) { return op->operands[i].value; }
static inline tm_value *tm_op_result(tm_op *op, int i) { return &op->results[i]; }
void tm_op_set_operand(tm_op *op, int i, tm_value *v);
void tm_op_set_operands(tm_ctx *ctx, tm_op *op, int n, tm_value *const *vals);
const tm_attr *tm_op_attr(const tm_op *op, const char *name); /* NULL if absent */
void tm_op_set_attr(tm_ctx *ctx, tm_op *op, const char *name, const tm_attr *value);
bool tm_op_remove_attr(tm_op *op, const char *name);
/* Typed getters with defaults for absent or ill-kinded attributes. */
int64_t tm_op_attr_int(const tm_op *op, const char *name, int64_t dflt);
double tm_op_attr_float(const tm_op *op, const char *name, double dflt);
const char *tm_op_attr_str(const tm_op *op, const char *name, const char *dflt);
bool tm_op_is(const tm_op *op, const char *name); /* name compare */
tm_op *tm_op_parent(const tm_op *op);             /* enclosing op, or NULL */
bool tm_op_is_ancestor(const tm_op *ancestor, const tm_op *op);
bool tm_op_is_before_in_block(const tm_op *a, const tm_op *b);

/* Walk: pre-order over op and everything nested.  The callback may erase the op it is
 * given (the walk has already saved its successor) but nothing else.  Return false
 * from the callback to stop the walk; tm_op_walk then returns false. */
typedef bool (*tm_walk_fn)(tm_op *op, void *user);
bool tm_op_walk(tm_op *op, tm_walk_fn fn, void *user);
bool tm_op_walk_post(tm_op *op, tm_walk_fn fn, void *user); /* post-order */

/* ---------------------------------------------------------- blocks, regions ------- */
tm_block *tm_block_create(tm_ctx *ctx);
tm_value *tm_block_add_arg(tm_ctx *ctx, tm_block *b, const tm_type *type, const tm_loc *loc);
void tm_block_erase_arg(tm_block *b, int i); /* arg must be unused */
void tm_block_append(tm_block *b, tm_op *op);
void tm_block_prepend(tm_block *b, tm_op *op);
tm_op *tm_block_terminator(const tm_block *b); /* last op if it is a terminator, else NULL */
void tm_region_add_block(tm_region *r, tm_block *b);
tm_block *tm_region_entry(const tm_region *r); /* first block or NULL */
#define TM_FOREACH_OP(o, blk) for (tm_op *o = (blk)->first, *o##_next = o ? o->next : NULL; o; \
                                   o = o##_next, o##_next = o ? o->next : NULL)

/* Insertion point for building ops. */
typedef struct tm_builder {
  tm_ctx *ctx;
  tm_block *block;  /* insert into this block ... */
  tm_op *before;    /* ... before this op (NULL: at the end) */
  const tm_loc *loc;
} tm_builder;
tm_builder tm_builder_before(tm_ctx *ctx, tm_op *op);
tm_builder tm_builder_at_end(tm_ctx *ctx, tm_block *b);
tm_op *tm_build(tm_builder *b, const tm_op_state *st); /* create + insert */

/* --------------------------------------------------------------- rewriter --------- */
/* Patterns change the IR only through a rewriter, so a driver (the greedy one in
 * passes/) learns of every created, modified and erased op through the listener. */
typedef struct tm_rewrite_listener {
  void (*inserted)(void *user, tm_op *op);
  void (*erased)(void *user, tm_op *op);   /* called before the op is unlinked */
  void (*modified)(void *user, tm_op *op);
  void *user;
} tm_rewrite_listener;

struct tm_rewriter {
  tm_ctx *ctx;
  tm_rewrite_listener listener; /* all callbacks may be NULL */
};
tm_rewriter tm_rewriter_make(tm_ctx *ctx);      /* no listener */
tm_op *tm_rw_create_before(tm_rewriter *rw, tm_op *pos, const tm_op_state *st);
tm_op *tm_rw_const_before(tm_rewriter *rw, tm_op *pos, const tm_attr *value,
                          const tm_type *result_type, const tm_loc *loc);
void tm_rw_replace_op(tm_rewriter *rw, tm_op *op, tm_value *const *values);
void tm_rw_replace_all_uses(tm_rewriter *rw, tm_value *from, tm_value *to); /* notifies users */
void tm_rw_erase_op(tm_rewriter *rw, tm_op *op);
void tm_rw_set_operand(tm_rewriter *rw, tm_op *op, int i, tm_value *v);
void tm_rw_set_attr(tm_rewriter *rw, tm_op *op, const char *name, const tm_attr *value);
void tm_rw_modified(tm_rewriter *rw, tm_op *op); /* after other in-place changes */

/* --------------------------------------------------------------- constants -------- */
/* "tm.const" {value = dense<...>} : () -> tensor<...> (quantized results keep the
 * storage-typed dense value).  Scalar constants for lowered levels come later. */
tm_op *tm_build_const(tm_builder *b, const tm_attr *value, const tm_type *result_type);
/* The value attribute if v is the result of a TM_TRAIT_CONSTANT op, else NULL. */
const tm_attr *tm_value_const(const tm_value *v);

/* ------------------------------------------------------------ op registry --------- */
typedef enum {
  TM_TRAIT_PURE = 1u << 0,          /* no side effects: CSE/DCE may touch it */
  TM_TRAIT_COMMUTATIVE = 1u << 1,
  TM_TRAIT_TERMINATOR = 1u << 2,
  TM_TRAIT_ISOLATED = 1u << 3,      /* regions do not see values defined outside */
  TM_TRAIT_ELEMENTWISE = 1u << 4,
  TM_TRAIT_SYMBOL = 1u << 5,        /* has a sym_name attribute */
  TM_TRAIT_CONSTANT = 1u << 6,      /* value attribute is its result */
  TM_TRAIT_SAME_OPERANDS_AND_RESULT_TYPE = 1u << 7,
} tm_op_trait;

typedef enum {
  TM_AK_ANY, TM_AK_UNIT, TM_AK_INT, TM_AK_FLOAT, TM_AK_BOOL, TM_AK_STRING, TM_AK_ARRAY,
  TM_AK_INT_ARRAY, TM_AK_DICT, TM_AK_TYPE, TM_AK_SYMREF, TM_AK_DENSE,
} tm_attr_kind_constraint;

typedef struct tm_attrdef {
  const char *name;
  tm_attr_kind_constraint kind;
  bool required;
  const char *default_text; /* textual attribute syntax, NULL if none (docs, defaults) */
  const char *doc;
} tm_attrdef;

/* Result of a fold: fill results[] with existing values or attributes (constants). */
typedef struct tm_fold_result {
  tm_value *value;
  const tm_attr *attr; /* a constant: the driver materializes it */
} tm_fold_result;

typedef bool (*tm_pattern_fn)(tm_rewriter *rw, tm_op *op);
typedef struct tm_pattern {
  const char *root;   /* op name this pattern matches, NULL for any op */
  tm_pattern_fn fn;   /* returns true if it changed the IR (through rw) */
  int benefit;        /* higher first */
  const char *debug_name;
} tm_pattern;

typedef struct tm_cost {
  int64_t macs;             /* multiply-accumulates */
  int64_t param_bytes;      /* constant operand bytes */
  int64_t activation_bytes; /* non-constant operands + results */
} tm_cost;

struct tm_opdef {
  const char *name;        /* "tm.conv2d" */
  const char *summary;
  int min_operands, max_operands; /* max -1: variadic */
  int min_results, max_results;
  int nregions;
  unsigned traits;
  const tm_attrdef *attrs;
  int nattrs;
  /* Verify op-specific invariants; report with tm_op_error and return -1. */
  int (*verify)(tm_ctx *ctx, tm_op *op);
  /* Compute result types from operands and attributes; return -1 (with a located
   * error) if they cannot be inferred.  NULL: results are not inferable. */
  int (*infer)(tm_ctx *ctx, tm_op *op, const tm_type **result_types);
  /* Hooks later passes fill (tm_opdef_mut): */
  /* Fold to existing values or constants, given operand constants (NULL if not constant).
   * Return true if folded. */
  bool (*fold)(tm_ctx *ctx, tm_op *op, const tm_attr *const *operand_consts,
               tm_fold_result *results);
  const tm_pattern *canonical_patterns;
  int ncanonical_patterns;
  bool (*cost)(tm_ctx *ctx, const tm_op *op, tm_cost *out);
};

const tm_opdef *tm_opdef_lookup(tm_ctx *ctx, const char *name);
tm_opdef *tm_opdef_mut(tm_ctx *ctx, const char *name); /* for passes filling hooks */
int tm_opdef_count(tm_ctx *ctx);
const tm_opdef *tm_opdef_at(tm_ctx *ctx, int i);
/* Whether the registry holds an op of this dialect (the name before the first '.',
 * len bytes of dialect): an unknown op of a registered dialect is an error even with
 * --allow-unregistered-dialect, as in mlir-opt. */
bool tm_dialect_is_registered(tm_ctx *ctx, const char *dialect, size_t len);
const tm_attrdef *tm_opdef_attr(const tm_opdef *d, const char *name);
bool tm_op_has_trait(const tm_op *op, tm_op_trait t);

/* --------------------------------------------------------------- verifier --------- */
/* Structural checks (dominance within blocks, terminators, use lists, isolated regions)
 * and each registered op's verifier.  Reports every error; returns 0 if valid. */
int tm_verify(tm_ctx *ctx, tm_op *root);

/* ---------------------------------------------------------- module, func ---------- */
tm_op *tm_module_create(tm_ctx *ctx, const tm_loc *loc); /* builtin.module with 1 block */
tm_block *tm_module_body(tm_op *module);
tm_op *tm_module_lookup(tm_op *module, const char *sym_name); /* symbol table lookup */
/* func.func: sym_name, function_type; body region with entry block arguments. */
tm_op *tm_func_create(tm_ctx *ctx, const char *name, const tm_type *func_type, const tm_loc *loc);
const tm_type *tm_func_type(const tm_op *func);
tm_block *tm_func_entry(const tm_op *func);

/* ---------------------------------------------------------------- printer --------- */
typedef struct tm_print_flags {
  bool locations;     /* print loc(...) after each op (--print-locations) */
  bool generic;       /* generic form for func/module as well */
  int hex_threshold;  /* dense attrs with more elements print as hex; 0 = default (100) */
} tm_print_flags;
/* Prints op (usually a module) to a FILE*.  The output re-parses to the same IR and is
 * accepted by mlir-opt --allow-unregistered-dialect. */
void tm_print_op(tm_ctx *ctx, const tm_op *op, const tm_print_flags *flags, void *stdio_file);
void tm_print_type(const tm_type *t, void *stdio_file);
void tm_print_attr(const tm_attr *a, void *stdio_file);
void tm_print_loc(const tm_loc *l, void *stdio_file);
/* Same into an arena string (for diagnostics and tests). */
const char *tm_type_str(tm_ctx *ctx, const tm_type *t);
const char *tm_attr_str(tm_ctx *ctx, const tm_attr *a);
const char *tm_op_str(tm_ctx *ctx, const tm_op *op, const tm_print_flags *flags);

#endif /* TM_IR_H */
