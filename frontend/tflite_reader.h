/* frontend/tflite_reader.h — a small, bounds-checked reader of TFLite flatbuffer files.
 *
 * Decodes a .tflite file (tensorflow/lite/schema/schema.fbs, schema version 3) into plain
 * C structs without the flatbuffers library.  Every offset, length, vtable and index is
 * checked against the file size and the schema before it is used: a malformed file gives
 * a TFL_ERR_* status and a precise message, never an out-of-bounds read, a crash or a hang.
 * Multi-byte values are read bytewise as little-endian, so neither the host's endianness
 * nor the alignment of the caller's bytes matters.
 *
 * Memory: the caller owns the file bytes and keeps them alive as long as the decoded model
 * (names, buffer data and custom options point into them; such data may be unaligned, copy
 * it with memcpy).  Decoded structs come from the caller's allocator (e.g. a tm_arena
 * wrapper; it must return memory aligned like malloc's, and the reader zeroes it), or, with
 * alloc == NULL, from malloc, released by tfl_model_free.  With a caller allocator,
 * whatever was allocated before an error stays with the caller's arena. */
#ifndef TM_TFLITE_READER_H
#define TM_TFLITE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum tfl_status {
  TFL_OK = 0,
  TFL_ERR_ARG,         /* NULL arguments */
  TFL_ERR_FORMAT,      /* flatbuffer structure: offsets, vtables, vectors, strings */
  TFL_ERR_SCHEMA,      /* TFLite semantics: indices, shapes, buffer sizes, quantization */
  TFL_ERR_UNSUPPORTED, /* a value this schema version does not define (enum, union type) */
  TFL_ERR_NOMEM,       /* allocation failed or the decoded size budget was exceeded */
} tfl_status;

typedef struct tfl_error {
  tfl_status status;
  char message[320]; /* "tflite: subgraph 0: tensor 12: buffer index 99 out of range ..." */
} tfl_error;

/* TensorType. */
typedef enum tfl_type {
  TFL_FLOAT32 = 0, TFL_FLOAT16 = 1, TFL_INT32 = 2, TFL_UINT8 = 3, TFL_INT64 = 4,
  TFL_STRING = 5, TFL_BOOL = 6, TFL_INT16 = 7, TFL_COMPLEX64 = 8, TFL_INT8 = 9,
  TFL_FLOAT64 = 10, TFL_COMPLEX128 = 11, TFL_UINT64 = 12, TFL_RESOURCE = 13,
  TFL_VARIANT = 14, TFL_UINT32 = 15, TFL_UINT16 = 16, TFL_INT4 = 17,
  TFL_TYPE_MAX = TFL_INT4
} tfl_type;

typedef enum tfl_padding { TFL_PAD_SAME = 0, TFL_PAD_VALID = 1 } tfl_padding;

typedef enum tfl_activation {
  TFL_ACT_NONE = 0, TFL_ACT_RELU = 1, TFL_ACT_RELU_N1_TO_1 = 2, TFL_ACT_RELU6 = 3,
  TFL_ACT_TANH = 4, TFL_ACT_SIGN_BIT = 5
} tfl_activation;

/* BuiltinOperator: X(name, code).  Codes 206..224 are unassigned. */
#define TFL_BUILTIN_OPS(X) \
  X(ADD, 0) X(AVERAGE_POOL_2D, 1) X(CONCATENATION, 2) X(CONV_2D, 3) \
  X(DEPTHWISE_CONV_2D, 4) X(DEPTH_TO_SPACE, 5) X(DEQUANTIZE, 6) X(EMBEDDING_LOOKUP, 7) \
  X(FLOOR, 8) X(FULLY_CONNECTED, 9) X(HASHTABLE_LOOKUP, 10) X(L2_NORMALIZATION, 11) \
  X(L2_POOL_2D, 12) X(LOCAL_RESPONSE_NORMALIZATION, 13) X(LOGISTIC, 14) \
  X(LSH_PROJECTION, 15) X(LSTM, 16) X(MAX_POOL_2D, 17) X(MUL, 18) X(RELU, 19) \
  X(RELU_N1_TO_1, 20) X(RELU6, 21) X(RESHAPE, 22) X(RESIZE_BILINEAR, 23) X(RNN, 24) \
  X(SOFTMAX, 25) X(SPACE_TO_DEPTH, 26) X(SVDF, 27) X(TANH, 28) X(CONCAT_EMBEDDINGS, 29) \
  X(SKIP_GRAM, 30) X(CALL, 31) X(CUSTOM, 32) X(EMBEDDING_LOOKUP_SPARSE, 33) X(PAD, 34) \
  X(UNIDIRECTIONAL_SEQUENCE_RNN, 35) X(GATHER, 36) X(BATCH_TO_SPACE_ND, 37) \
  X(SPACE_TO_BATCH_ND, 38) X(TRANSPOSE, 39) X(MEAN, 40) X(SUB, 41) X(DIV, 42) \
  X(SQUEEZE, 43) X(UNIDIRECTIONAL_SEQUENCE_LSTM, 44) X(STRIDED_SLICE, 45) \
  X(BIDIRECTIONAL_SEQUENCE_RNN, 46) X(EXP, 47) X(TOPK_V2, 48) X(SPLIT, 49) \
  X(LOG_SOFTMAX, 50) X(DELEGATE, 51) X(BIDIRECTIONAL_SEQUENCE_LSTM, 52) X(CAST, 53) \
  X(PRELU, 54) X(MAXIMUM, 55) X(ARG_MAX, 56) X(MINIMUM, 57) X(LESS, 58) X(NEG, 59) \
  X(PADV2, 60) X(GREATER, 61) X(GREATER_EQUAL, 62) X(LESS_EQUAL, 63) X(SELECT, 64) \
  X(SLICE, 65) X(SIN, 66) X(TRANSPOSE_CONV, 67) X(SPARSE_TO_DENSE, 68) X(TILE, 69) \
  X(EXPAND_DIMS, 70) X(EQUAL, 71) X(NOT_EQUAL, 72) X(LOG, 73) X(SUM, 74) X(SQRT, 75) \
  X(RSQRT, 76) X(SHAPE, 77) X(POW, 78) X(ARG_MIN, 79) X(FAKE_QUANT, 80) \
  X(REDUCE_PROD, 81) X(REDUCE_MAX, 82) X(PACK, 83) X(LOGICAL_OR, 84) X(ONE_HOT, 85) \
  X(LOGICAL_AND, 86) X(LOGICAL_NOT, 87) X(UNPACK, 88) X(REDUCE_MIN, 89) \
  X(FLOOR_DIV, 90) X(REDUCE_ANY, 91) X(SQUARE, 92) X(ZEROS_LIKE, 93) X(FILL, 94) \
  X(FLOOR_MOD, 95) X(RANGE, 96) X(RESIZE_NEAREST_NEIGHBOR, 97) X(LEAKY_RELU, 98) \
  X(SQUARED_DIFFERENCE, 99) X(MIRROR_PAD, 100) X(ABS, 101) X(SPLIT_V, 102) \
  X(UNIQUE, 103) X(CEIL, 104) X(REVERSE_V2, 105) X(ADD_N, 106) X(GATHER_ND, 107) \
  X(COS, 108) X(WHERE, 109) X(RANK, 110) X(ELU, 111) X(REVERSE_SEQUENCE, 112) \
  X(MATRIX_DIAG, 113) X(QUANTIZE, 114) X(MATRIX_SET_DIAG, 115) X(ROUND, 116) \
  X(HARD_SWISH, 117) X(IF, 118) X(WHILE, 119) X(NON_MAX_SUPPRESSION_V4, 120) \
  X(NON_MAX_SUPPRESSION_V5, 121) X(SCATTER_ND, 122) X(SELECT_V2, 123) X(DENSIFY, 124) \
  X(SEGMENT_SUM, 125) X(BATCH_MATMUL, 126) X(PLACEHOLDER_FOR_GREATER_OP_CODES, 127) \
  X(CUMSUM, 128) X(CALL_ONCE, 129) X(BROADCAST_TO, 130) X(RFFT2D, 131) X(CONV_3D, 132) \
  X(IMAG, 133) X(REAL, 134) X(COMPLEX_ABS, 135) X(HASHTABLE, 136) \
  X(HASHTABLE_FIND, 137) X(HASHTABLE_IMPORT, 138) X(HASHTABLE_SIZE, 139) \
  X(REDUCE_ALL, 140) X(CONV_3D_TRANSPOSE, 141) X(VAR_HANDLE, 142) \
  X(READ_VARIABLE, 143) X(ASSIGN_VARIABLE, 144) X(BROADCAST_ARGS, 145) \
  X(RANDOM_STANDARD_NORMAL, 146) X(BUCKETIZE, 147) X(RANDOM_UNIFORM, 148) \
  X(MULTINOMIAL, 149) X(GELU, 150) X(DYNAMIC_UPDATE_SLICE, 151) X(RELU_0_TO_1, 152) \
  X(UNSORTED_SEGMENT_PROD, 153) X(UNSORTED_SEGMENT_MAX, 154) \
  X(UNSORTED_SEGMENT_SUM, 155) X(ATAN2, 156) X(UNSORTED_SEGMENT_MIN, 157) X(SIGN, 158) \
  X(BITCAST, 159) X(BITWISE_XOR, 160) X(RIGHT_SHIFT, 161) X(STABLEHLO_LOGISTIC, 162) \
  X(STABLEHLO_ADD, 163) X(STABLEHLO_DIVIDE, 164) X(STABLEHLO_MULTIPLY, 165) \
  X(STABLEHLO_MAXIMUM, 166) X(STABLEHLO_RESHAPE, 167) X(STABLEHLO_CLAMP, 168) \
  X(STABLEHLO_CONCATENATE, 169) X(STABLEHLO_BROADCAST_IN_DIM, 170) \
  X(STABLEHLO_CONVOLUTION, 171) X(STABLEHLO_SLICE, 172) X(STABLEHLO_CUSTOM_CALL, 173) \
  X(STABLEHLO_REDUCE, 174) X(STABLEHLO_ABS, 175) X(STABLEHLO_AND, 176) \
  X(STABLEHLO_COSINE, 177) X(STABLEHLO_EXPONENTIAL, 178) X(STABLEHLO_FLOOR, 179) \
  X(STABLEHLO_LOG, 180) X(STABLEHLO_MINIMUM, 181) X(STABLEHLO_NEGATE, 182) \
  X(STABLEHLO_OR, 183) X(STABLEHLO_POWER, 184) X(STABLEHLO_REMAINDER, 185) \
  X(STABLEHLO_RSQRT, 186) X(STABLEHLO_SELECT, 187) X(STABLEHLO_SUBTRACT, 188) \
  X(STABLEHLO_TANH, 189) X(STABLEHLO_SCATTER, 190) X(STABLEHLO_COMPARE, 191) \
  X(STABLEHLO_CONVERT, 192) X(STABLEHLO_DYNAMIC_SLICE, 193) \
  X(STABLEHLO_DYNAMIC_UPDATE_SLICE, 194) X(STABLEHLO_PAD, 195) X(STABLEHLO_IOTA, 196) \
  X(STABLEHLO_DOT_GENERAL, 197) X(STABLEHLO_REDUCE_WINDOW, 198) X(STABLEHLO_SORT, 199) \
  X(STABLEHLO_WHILE, 200) X(STABLEHLO_GATHER, 201) X(STABLEHLO_TRANSPOSE, 202) \
  X(DILATE, 203) X(STABLEHLO_RNG_BIT_GENERATOR, 204) X(REDUCE_WINDOW, 205) \
  X(TEMP_STREAMING_CONV_2D, 225)

typedef enum tfl_builtin_op {
#define TFL_X_ENUM(name, code) TFL_OP_##name = code,
  TFL_BUILTIN_OPS(TFL_X_ENUM)
#undef TFL_X_ENUM
} tfl_builtin_op;

/* BuiltinOptions union type ids (1..TFL_OPT_MAX are all valid; the named ones are decoded
 * into tfl_options, the others are only identified by type). */
typedef enum tfl_options_type {
  TFL_OPT_NONE = 0,
  TFL_OPT_CONV2D = 1,
  TFL_OPT_DEPTHWISE_CONV2D = 2,
  TFL_OPT_POOL2D = 5,
  TFL_OPT_FULLY_CONNECTED = 8,
  TFL_OPT_SOFTMAX = 9,
  TFL_OPT_CONCATENATION = 10,
  TFL_OPT_ADD = 11,
  TFL_OPT_RESHAPE = 17,
  TFL_OPT_MUL = 21,
  TFL_OPT_PAD = 22,
  TFL_OPT_REDUCER = 27, /* MEAN, SUM, REDUCE_MAX/MIN/PROD/ANY/ALL */
  TFL_OPT_SUB = 28,
  TFL_OPT_SQUEEZE = 30,
  TFL_OPT_STRIDED_SLICE = 32,
  TFL_OPT_DEQUANTIZE = 38,
  TFL_OPT_TRANSPOSE_CONV = 49,
  TFL_OPT_LEAKY_RELU = 75,
  TFL_OPT_QUANTIZE = 89,
  TFL_OPT_BATCH_MATMUL = 101,
  TFL_OPT_MAX = 126, /* RightShiftOptions, the last BuiltinOptions member */
  TFL_OPT2_MAX = 20, /* ReduceWindowOptions, the last member of the BuiltinOptions2 union */
} tfl_options_type;

typedef struct tfl_conv2d_options {
  uint8_t padding, activation; /* tfl_padding, tfl_activation */
  int32_t stride_w, stride_h, dilation_w, dilation_h;
  uint8_t quantized_bias_type; /* tfl_type; 0 (FLOAT32) when absent = kernel default */
} tfl_conv2d_options;

typedef struct tfl_depthwise_conv2d_options {
  uint8_t padding, activation;
  int32_t stride_w, stride_h, depth_multiplier, dilation_w, dilation_h;
} tfl_depthwise_conv2d_options;

typedef struct tfl_pool2d_options {
  uint8_t padding, activation;
  int32_t stride_w, stride_h, filter_w, filter_h;
} tfl_pool2d_options;

typedef struct tfl_fully_connected_options {
  uint8_t activation;
  uint8_t weights_format; /* 0 DEFAULT, 1 SHUFFLED4x16INT8 */
  bool keep_num_dims, asymmetric_quantize_inputs;
  uint8_t quantized_bias_type;
} tfl_fully_connected_options;

typedef struct tfl_binary_options { /* Add, Sub, Mul */
  uint8_t activation;
  bool pot_scale_int16; /* Add and Sub only; schema default true */
} tfl_binary_options;

typedef struct tfl_int_list { /* Reshape new_shape, Squeeze squeeze_dims */
  bool present;               /* Reshape: new_shape given (else the shape input is used) */
  uint32_t count;
  int32_t *values;
} tfl_int_list;

typedef struct tfl_strided_slice_options {
  int32_t begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask;
  bool offset;
} tfl_strided_slice_options;

typedef struct tfl_transpose_conv_options {
  uint8_t padding, activation;
  int32_t stride_w, stride_h;
  uint8_t quantized_bias_type;
} tfl_transpose_conv_options;

typedef struct tfl_batch_matmul_options {
  bool adj_x, adj_y, asymmetric_quantize_inputs;
} tfl_batch_matmul_options;

/* The member named by tfl_operator.options_type; Pad, Quantize and Dequantize are empty. */
typedef union tfl_options {
  tfl_conv2d_options conv2d;
  tfl_depthwise_conv2d_options depthwise_conv2d;
  tfl_pool2d_options pool2d;
  tfl_fully_connected_options fully_connected;
  tfl_binary_options add, sub, mul;
  tfl_int_list reshape; /* new_shape */
  tfl_int_list squeeze; /* squeeze_dims */
  struct { float beta; } softmax;
  struct { int32_t axis; uint8_t activation; } concatenation;
  tfl_strided_slice_options strided_slice;
  struct { float alpha; } leaky_relu;
  struct { bool keep_dims; } reducer;
  tfl_transpose_conv_options transpose_conv;
  tfl_batch_matmul_options batch_matmul;
} tfl_options;

typedef struct tfl_quant {
  uint32_t num_scales; /* 0: not quantized (min/max or details only) */
  float *scales;
  int64_t *zero_points; /* num_scales entries */
  int32_t quantized_dimension; /* meaningful when num_scales > 1 */
  uint32_t num_min, num_max;
  float *min, *max;
  uint8_t details_type; /* 0 none, 1 CustomQuantization (then scales are to be ignored) */
} tfl_quant;

typedef struct tfl_tensor {
  const char *name; /* into the file; "" when absent */
  tfl_type type;
  uint32_t rank;
  int32_t *shape; /* rank entries, all >= 0 */
  bool has_shape_signature;
  uint32_t signature_rank;
  int32_t *shape_signature; /* -1 = unknown dimension */
  uint32_t buffer; /* index into tfl_model.buffers; 0 = no data */
  bool is_variable;
  bool has_rank;
  bool is_sparse; /* sparsity parameters present (not decoded; data size not checked) */
  tfl_quant *quant; /* NULL when absent; quantized iff quant && quant->num_scales */
} tfl_tensor;

typedef struct tfl_operator {
  uint32_t opcode_index;
  int32_t builtin_code; /* resolved from opcodes[opcode_index], for convenience */
  uint32_t num_inputs, num_outputs, num_intermediates;
  int32_t *inputs; /* -1 = optional input absent */
  int32_t *outputs;
  int32_t *intermediates;
  /* The BuiltinOptions union type in the file.  When the file has none and the builtin
   * has a decoded options table, this is that table's type filled with schema defaults
   * (as TFLite's own parser does). */
  uint8_t options_type;
  tfl_options options;
  uint8_t options2_type; /* BuiltinOptions2 type (StableHLO ops); not decoded */
  const uint8_t *custom_options; /* into the file; NULL when absent */
  uint64_t custom_options_size;
  uint8_t custom_options_format; /* 0 = FlexBuffers */
} tfl_operator;

typedef struct tfl_subgraph {
  const char *name; /* "" when absent */
  uint32_t num_tensors, num_inputs, num_outputs, num_operators;
  tfl_tensor *tensors;
  int32_t *inputs, *outputs; /* tensor indices */
  tfl_operator *operators;   /* in execution order */
} tfl_subgraph;

typedef struct tfl_opcode {
  int32_t builtin_code; /* max(deprecated_builtin_code, builtin_code), as TFLite does */
  int8_t deprecated_builtin_code;
  int32_t version;
  const char *custom_code; /* NULL unless present (required for CUSTOM) */
} tfl_opcode;

typedef struct tfl_buffer {
  const uint8_t *data; /* into the file, possibly unaligned; NULL when size == 0 */
  uint64_t size;
  bool external; /* stored outside the flatbuffer (Buffer.offset/size, >2 GB models) */
} tfl_buffer;

typedef struct tfl_metadata {
  const char *name;
  uint32_t buffer;
} tfl_metadata;

typedef struct tfl_model {
  uint32_t version;        /* schema version, 3 for current files */
  bool has_identifier;     /* "TFL3" at byte 4 */
  const char *description; /* "" when absent */
  uint32_t num_opcodes, num_subgraphs, num_buffers, num_metadata;
  tfl_opcode *opcodes;
  tfl_subgraph *subgraphs; /* at least one; 0 is the main graph */
  tfl_buffer *buffers;
  tfl_metadata *metadata;
  void *owned_; /* malloc'd blocks when alloc == NULL (private) */
} tfl_model;

/* Returns `size` bytes aligned like malloc's (the reader zeroes them), or NULL. */
typedef void *(*tfl_alloc_fn)(void *user, size_t size);

/* Decode `size` bytes.  On success stores the model in *out and returns TFL_OK; otherwise
 * returns the error status, stores NULL and fills *err (which may be NULL).
 * Beyond the flatbuffer structure it checks: operator, subgraph and intermediate tensor
 * indices (-1 only for operator inputs), opcode and buffer indices, non-negative dims
 * (-1 allowed in shape_signature), rank <= 16, constant data size == elements x element
 * size, scales 1 or dim[quantized_dimension] with as many zero points, known tensor
 * types and union types, options matching the builtin, paddings, activations, strides,
 * dilations and pool filters >= 1, and custom_code for CUSTOM. */
tfl_status tfl_model_read(const uint8_t *data, size_t size, tfl_alloc_fn alloc, void *user,
                          tfl_model **out, tfl_error *err);

/* Releases a model read with alloc == NULL; no-op for NULL or caller-allocated models. */
void tfl_model_free(tfl_model *model);

/* Names for messages; NULL for codes the schema does not define. */
const char *tfl_builtin_name(int32_t code);
const char *tfl_type_name(int type);
const char *tfl_options_name(int options_type);
const char *tfl_activation_name(int activation);
/* Bytes per element; 0 for STRING, RESOURCE, VARIANT and INT4 (packed) or unknown. */
unsigned tfl_type_size(int type);

#endif /* TM_TFLITE_READER_H */
