/* Fuzz target: any bytes through the TFLite flatbuffer reader.  A finding is a crash, a
 * sanitizer report, a leak or a hang; an error status is the expected outcome.  Whatever
 * decodes is walked completely so that ASan checks every pointer the reader hands out. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/tflite_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The caller-allocator path: remember every block, free them all at the end. */
typedef struct blocks {
  void **p;
  size_t n, cap;
} blocks;

static void *alloc_tracked(void *user, size_t size) {
  blocks *b = user;
  if (b->n == b->cap) {
    size_t cap = b->cap ? 2 * b->cap : 64;
    void **p = realloc(b->p, cap * sizeof *p);
    if (!p) return NULL;
    b->p = p;
    b->cap = cap;
  }
  void *q = malloc(size);
  if (q) b->p[b->n++] = q;
  return q;
}

static unsigned touch(const void *p, size_t n) {
  const uint8_t *c = p;
  unsigned sum = 0;
  for (size_t i = 0; i < n; i++) sum += c[i];
  return sum;
}

static unsigned walk(const tfl_model *m) {
  unsigned sum = (unsigned)strlen(m->description);
  for (uint32_t i = 0; i < m->num_buffers; i++)
    sum += touch(m->buffers[i].data, (size_t)m->buffers[i].size);
  for (uint32_t i = 0; i < m->num_opcodes; i++)
    if (m->opcodes[i].custom_code) sum += (unsigned)strlen(m->opcodes[i].custom_code);
  for (uint32_t i = 0; i < m->num_metadata; i++)
    sum += (unsigned)strlen(m->metadata[i].name) + m->metadata[i].buffer;
  for (uint32_t s = 0; s < m->num_subgraphs; s++) {
    const tfl_subgraph *g = &m->subgraphs[s];
    sum += (unsigned)strlen(g->name);
    sum += touch(g->inputs, g->num_inputs * sizeof(int32_t));
    sum += touch(g->outputs, g->num_outputs * sizeof(int32_t));
    for (uint32_t i = 0; i < g->num_tensors; i++) {
      const tfl_tensor *t = &g->tensors[i];
      sum += (unsigned)strlen(t->name) + touch(t->shape, t->rank * sizeof(int32_t));
      sum += touch(t->shape_signature, t->signature_rank * sizeof(int32_t));
      sum += touch(&m->buffers[t->buffer], sizeof(tfl_buffer));
      if (t->quant) {
        const tfl_quant *q = t->quant;
        sum += touch(q->scales, q->num_scales * sizeof(float));
        sum += touch(q->zero_points, q->num_scales * sizeof(int64_t));
        sum +=
            touch(q->min, q->num_min * sizeof(float)) + touch(q->max, q->num_max * sizeof(float));
      }
    }
    for (uint32_t i = 0; i < g->num_operators; i++) {
      const tfl_operator *op = &g->operators[i];
      sum += touch(&m->opcodes[op->opcode_index], sizeof(tfl_opcode));
      sum += touch(op->inputs, op->num_inputs * sizeof(int32_t));
      sum += touch(op->outputs, op->num_outputs * sizeof(int32_t));
      sum += touch(op->intermediates, op->num_intermediates * sizeof(int32_t));
      sum += touch(op->custom_options, (size_t)op->custom_options_size);
      if (op->options_type == TFL_OPT_RESHAPE)
        sum += touch(op->options.reshape.values, op->options.reshape.count * sizeof(int32_t));
      if (op->options_type == TFL_OPT_SQUEEZE)
        sum += touch(op->options.squeeze.values, op->options.squeeze.count * sizeof(int32_t));
      sum += (unsigned)strlen(tfl_options_name(op->options_type));
    }
  }
  return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tfl_model *m = NULL;
  tfl_error err;
  volatile unsigned sink = 0;
  if (size & 1) {
    blocks b = {0};
    if (tfl_model_read(data, size, alloc_tracked, &b, &m, &err) == TFL_OK) sink += walk(m);
    for (size_t i = 0; i < b.n; i++) free(b.p[i]);
    free(b.p);
  } else {
    if (tfl_model_read(data, size, NULL, NULL, &m, &err) == TFL_OK) sink += walk(m);
    tfl_model_free(m);
  }
  if (err.message[0] != 't' && err.status != TFL_OK) abort(); /* every error has a message */
  (void)sink;
  return 0;
}
