/* backends/backend.h — the emitter interface every backend shares.
 *
 * A backend turns a planned lowered module (lower-to-loops + plan-memory output, see
 * docs/lowered.md) into files for a microcontroller build.  Whatever the backend, the
 * caller sees the same C header, NAME.h:
 *
 *   #define NAME_ARENA_BYTES   <n>    scratch the caller provides, 16-byte aligned
 *   #define NAME_NUM_INPUTS    <k>
 *   #define NAME_NUM_OUTPUTS   <m>
 *   #define NAME_INPUT0_BYTES  <b>    one per input and output, in model order
 *   #define NAME_OUTPUT0_BYTES <b>
 *   int NAME_invoke(void *arena, const void *const inputs[], void *const outputs[]);
 *
 * NAME_invoke returns 0, or -1 if a pointer it needs is NULL or the arena is misaligned.
 * It copies nothing: inputs and outputs are read and written in place.
 *
 * Inputs and outputs in the arena (plan-memory{io-in-arena=true}: the model function has
 * tm.input_offsets / tm.output_offsets) add, per input and output,
 *
 *   #define NAME_INPUT0_OFFSET  <o>   where input 0 lives inside the arena
 *   #define NAME_OUTPUT0_OFFSET <o>
 *
 * and NAME_invoke then takes NULL (the array or an entry) for them: the caller wrote the
 * input at arena + offset, and reads the output there.  A non-NULL pointer is copied in
 * before the run (memcpy) or out after it.  The input's bytes in the arena do not survive
 * the run.
 *
 * The model function is the module's func.func carrying `tm.num_inputs = K : i64`: its
 * arguments are (%arena: memref<Nxi8> if `tm.arena_bytes = N` is set, then the K inputs,
 * then the outputs as out-params), and it returns nothing. */
#ifndef TM_BACKEND_H
#define TM_BACKEND_H

#include "ir/ir.h"

typedef struct tm_emit_options {
  const char *path; /* the code, e.g. out/kws.c; the header goes beside it: out/kws.h */
  const char *name; /* model name: a C identifier, the prefix of the header's symbols */
  const char *target;    /* LLVM backend: a name of backends/targets.def (NULL: host) */
  const char *opt_level; /* LLVM backend: 0, 1, 2, 3, s or z (NULL: 2) */
  bool check_regions;    /* LLVM backend at s or z: trap where an access leaves its view's bytes */
} tm_emit_options;

/* Writes opt->path and its header; returns 0, or -1 after reporting a located error
 * (nothing half-written is left behind). */
typedef int (*tm_emit_fn)(tm_ctx *ctx, tm_op *module, const tm_emit_options *opt);

/* The C backend (backends/c): NAME.c, self-contained C99. */
int tm_emit_c(tm_ctx *ctx, tm_op *module, const tm_emit_options *opt);

/* The LLVM backend (backends/llvm): LLVM's optimizer and code generator for opt->target,
 * writing LLVM IR (.ll), bitcode, assembly, an ELF object, or a static library (an ar
 * archive holding the object; it needs only memcpy/memset from libc). */
int tm_emit_llvm_ir(tm_ctx *ctx, tm_op *module, const tm_emit_options *opt);
int tm_emit_llvm_bc(tm_ctx *ctx, tm_op *module, const tm_emit_options *opt);
int tm_emit_llvm_asm(tm_ctx *ctx, tm_op *module, const tm_emit_options *opt);
int tm_emit_llvm_obj(tm_ctx *ctx, tm_op *module, const tm_emit_options *opt);
int tm_emit_llvm_lib(tm_ctx *ctx, tm_op *module, const tm_emit_options *opt);
/* Prints the targets of backends/targets.def to a FILE* (--list-targets). */
void tm_list_targets(void *stdio_file);

/* Backends by --emit name ("c", "llvm", "obj", ...); NULL if unknown. */
tm_emit_fn tm_backend_lookup(const char *name);

/* ---------------------------------------------------------- the common header ----- */
typedef struct tm_model_io {
  const char *name;     /* from tm.input_names / tm.output_names, or NULL */
  const tm_type *type;  /* static memref */
  int64_t bytes;
  int64_t offset;       /* in the arena (tm.input_offsets / tm.output_offsets), or -1 */
} tm_model_io;

typedef struct tm_model_info {
  tm_op *func;          /* the model function */
  bool has_arena;       /* its first argument is the arena */
  int64_t arena_bytes;  /* tm.arena_bytes, 0 without an arena */
  int ninputs, noutputs;
  tm_model_io *inputs, *outputs; /* context arena */
  bool io_in_arena;     /* every input and output has an offset */
} tm_model_info;

/* Finds the model function of a planned module and describes its interface; -1 after
 * a located error (no model function, unplanned allocations, dynamic shapes, ...). */
int tm_model_info_get(tm_ctx *ctx, tm_op *module, tm_model_info *out);
/* Writes NAME.h (the contract above) to a FILE*; backend names what produced it. */
void tm_write_header(tm_ctx *ctx, const tm_model_info *mi, const char *name, const char *backend, void *stdio_file);
/* Whether s can be NAME: [A-Za-z_][A-Za-z0-9_]*, at most 64 characters. */
bool tm_is_c_identifier(const char *s);
/* The header beside an output file: out/kws.c -> out/kws.h (context arena). */
const char *tm_header_path(tm_ctx *ctx, const char *path);
/* Removes a half-written output after a failure, as LLVM tools do, unless path is not a
 * regular file: removing a device (-o /dev/null) lets the next writer replace it. */
void tm_remove_output(const char *path);

#endif /* TM_BACKEND_H */
