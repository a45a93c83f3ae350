/* runtime/test/hello.h: a hand-written model obeying the generated-code contract
 * (backends/: NAME.h, NAME_invoke), for testing the boards without the compiler. */
#ifndef TINYML_hello_H
#define TINYML_hello_H

#define hello_ARENA_BYTES 32   /* scratch the caller provides, 16-byte aligned */
#define hello_NUM_INPUTS 1
#define hello_NUM_OUTPUTS 1
#define hello_INPUT0_BYTES 16  /* memref<1x16xi8> */
#define hello_OUTPUT0_BYTES 16 /* memref<1x16xi8> */

int hello_invoke(void *arena, const void *const inputs[], void *const outputs[]);

#endif /* TINYML_hello_H */
