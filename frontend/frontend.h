/* frontend/frontend.h — reading IR text (and, later, model files) into a module.
 *
 * The textual format is MLIR's: generic op form for every op, the custom forms of
 * builtin.module, func.func and func.return, types, attributes and loc(...).  The
 * lexer (lexer.l) and parser (parser.y) are generated at build time. */
#ifndef TM_FRONTEND_H
#define TM_FRONTEND_H

#include "ir/ir.h"

typedef struct tm_parse_options {
  bool allow_unregistered; /* accept ops of dialects the context does not know */
  int first_line;          /* line number of text[0] in its file (split-input-file); 0 = 1 */
} tm_parse_options;

/* Parse a whole buffer into a builtin.module: a single top-level `module { }` is used as
 * is, otherwise the top-level ops are wrapped into a new module.  The buffer is
 * registered with the context so diagnostics can quote it; it must outlive the context.
 * On error, reports located diagnostics and returns NULL.  Does not run the verifier. */
tm_op *tm_parse_module(tm_ctx *ctx, const char *filename, const char *text, size_t len,
                       const tm_parse_options *opt);

/* Parse one type or attribute from a string (tests, attribute defaults, pass options).
 * NULL after an error located in "<string>". */
const tm_type *tm_parse_type(tm_ctx *ctx, const char *text);
const tm_attr *tm_parse_attr(tm_ctx *ctx, const char *text);

/* --split-input-file: the chunks between lines that are exactly "// -----". */
typedef struct tm_source_chunk {
  const char *text;
  size_t len;
  int first_line; /* 1-based line of text[0] in the whole file */
} tm_source_chunk;
int tm_split_input(tm_ctx *ctx, const char *text, size_t len, tm_source_chunk **chunks);

/* --verify-diagnostics: collects "// expected-{error,warning,note,remark}[@+N|@-N|@above|
 * @below] {{text}}" comments of a chunk, installs itself as the diagnostic handler, and
 * at finish reports (as errors, printed through the previous handler) every expected
 * diagnostic not produced and every produced diagnostic not expected.  finish returns 0
 * if everything matched and restores the previous handler. */
typedef struct tm_diag_verifier tm_diag_verifier;
tm_diag_verifier *tm_diag_verifier_begin(tm_ctx *ctx, const char *filename,
                                         const tm_source_chunk *chunk);
int tm_diag_verifier_finish(tm_diag_verifier *v);

/* Reads a whole file ("-" is stdin) into the context's arena, NUL-terminated.
 * Reports "error: cannot open ..." and returns NULL on failure. */
const char *tm_read_file(tm_ctx *ctx, const char *path, size_t *len);

/* --------------------------------------------------------- TFLite import ---------- */
/* frontend/tflite_importer.c; docs/import.md describes the mapping. */
typedef struct tm_tflite_import_options {
  const char *func_name; /* NULL: the file name's stem, made a valid symbol ("model") */
} tm_tflite_import_options;

/* Import subgraph 0 of a .tflite flatbuffer (`size` bytes; copied, need not outlive the
 * call) into a builtin.module holding one func.func of tm ops.  filename names the model
 * in locations: op i is loc("FILE:op i"("output tensor name")).  On error, reports
 * located diagnostics and returns NULL.  Does not run the verifier.  opt may be NULL. */
tm_op *tm_import_tflite(tm_ctx *ctx, const char *filename, const uint8_t *data, size_t size,
                        const tm_tflite_import_options *opt);

/* ----------------------------------------------------------- ONNX import ---------- */
/* frontend/onnx_importer.c; docs/import.md describes the mapping. */
typedef struct tm_onnx_input_shape {
  const char *name; /* graph input name */
  int rank;
  const int64_t *dims;
} tm_onnx_input_shape;

typedef struct tm_onnx_import_options {
  const char *func_name;                   /* NULL: the file name's stem, as for TFLite */
  int ninput_shapes;                       /* --input-shape: fixes dynamic input dims */
  const tm_onnx_input_shape *input_shapes;
} tm_onnx_import_options;

/* Import the main graph of an ONNX ModelProto (`size` bytes) into a builtin.module holding
 * one func.func of tm ops.  The function keeps ONNX's input and output layouts (NCHW);
 * inside, 4-D activations are NHWC and weights are re-laid out at import.  Node i is
 * loc("FILE:node i"("node name")).  On error, reports located diagnostics and returns
 * NULL.  Does not run the verifier.  opt may be NULL. */
tm_op *tm_import_onnx(tm_ctx *ctx, const char *filename, const uint8_t *data, size_t size,
                      const tm_onnx_import_options *opt);

/* --input-shape text "name:1x3x32x32[,name2:1x10]" into opt->input_shapes (arena).
 * Reports "error: invalid --input-shape ..." and returns -1 on malformed text. */
int tm_onnx_parse_input_shapes(tm_ctx *ctx, const char *text, tm_onnx_import_options *opt);

#endif /* TM_FRONTEND_H */
