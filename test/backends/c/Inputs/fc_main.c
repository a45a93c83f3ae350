/* Runs fc_invoke (fully-connected-int8.tir) on a fixed input and prints the outputs. */
#include <stdint.h>
#include <stdio.h>

#include "fc.h"

int main(void) {
  const int8_t in[fc_INPUT0_BYTES] = {-128, -100, 0, 1, 50, 127, -1, 3};
  int8_t out[fc_OUTPUT0_BYTES];
  const void *inputs[fc_NUM_INPUTS] = {in};
  void *outputs[fc_NUM_OUTPUTS] = {out};
  int rc = fc_invoke(NULL, inputs, outputs);
  printf("rc=%d out=%d %d %d %d\n", rc, out[0], out[1], out[2], out[3]);
  printf("null input: %d\n", fc_invoke(NULL, NULL, outputs));
  return 0;
}
