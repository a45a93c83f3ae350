/* runtime/test/hellof.h: a hand-written float32 model obeying the generated-code contract,
 * for testing the float comparison and libm on the boards. */
#ifndef TINYML_hellof_H
#define TINYML_hellof_H

#define hellof_ARENA_BYTES 0
#define hellof_NUM_INPUTS 1
#define hellof_NUM_OUTPUTS 1
#define hellof_INPUT0_BYTES 32  /* memref<1x8xf32> */
#define hellof_OUTPUT0_BYTES 32 /* memref<1x8xf32> */

int hellof_invoke(void *arena, const void *const inputs[], void *const outputs[]);

#endif /* TINYML_hellof_H */
