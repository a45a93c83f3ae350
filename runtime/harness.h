/* runtime/harness.h: the test data harness.c runs a model on, as the file run-on-qemu.py
 * generates from golden .bin files declares it.  Inputs are copied from flash into RAM
 * buffers before each run (a device's input arrives in RAM too, and TFLite Micro's arena
 * figure includes it). */
#ifndef TINYML_RUNTIME_HARNESS_H
#define TINYML_RUNTIME_HARNESS_H

#include <stdint.h>

typedef struct {
  void *buf;      /* 16-byte aligned RAM buffer of `bytes`, or NULL when in the arena */
  uint32_t bytes;
  uint8_t is_f32; /* float32 outputs are compared with a tolerance, the rest byte for byte */
  int32_t arena_offset; /* >= 0: the tensor lives in the arena there (NAME_INPUTi_OFFSET) */
} tm_tensor;

extern const char tm_model_name[], tm_target_name[];
extern const uint32_t tm_num_cases, tm_num_inputs, tm_num_outputs;
extern const tm_tensor tm_inputs[], tm_outputs[];
/* Case c's input i is tm_case_inputs[c * tm_num_inputs + i] (tm_inputs[i].bytes long); its
 * golden output o is tm_case_outputs[c * tm_num_outputs + o]. */
extern const unsigned char *const tm_case_inputs[], *const tm_case_outputs[];

/* Where the embedded inputs and goldens go, apart from the model (see sections.ld). */
#define TM_TESTDATA __attribute__((section(".tm_testdata"), aligned(16)))

#endif /* TINYML_RUNTIME_HARNESS_H */
