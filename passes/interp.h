/* passes/interp.h — a reference interpreter for float tm graphs.
 *
 * Runs one func.func of tm ops on f32 tensors, op by op in block order, with the float
 * semantics of docs/ops.md (TFLite's reference kernels).  The quantize pass calibrates
 * with it: an observer sees every argument and op result (constants included) as soon as
 * it is computed and may change the values in place, which is how fake quantization is
 * simulated.  Buffers live in a private arena freed when the run ends. */
#ifndef TM_INTERP_H
#define TM_INTERP_H

#include "ir/ir.h"

/* Called for every block argument, then every op result in order; data holds numel
 * floats and may be modified. */
typedef void (*tm_interp_observe_fn)(void *user, tm_value *v, float *data, int64_t numel);

/* Whether the interpreter evaluates op (a tm op on static f32 tensors it knows). */
bool tm_interp_supports(const tm_op *op);

/* Runs func on inputs[i] (numel of argument i floats each) and copies result i into
 * outputs[i] (numel of result i floats).  Returns 0, or -1 after a located error (an op
 * it cannot evaluate, a non-f32 or dynamic tensor). */
int tm_interp_func(tm_ctx *ctx, tm_op *func, const float *const *inputs, float *const *outputs,
                   tm_interp_observe_fn observe, void *user);

/* The number of taps of one output of a weighted op (conv2d: KH*KW*I; depthwise_conv2d:
 * KH*KW*C; fully_connected: I), or 0 for other ops. */
int64_t tm_interp_taps(const tm_op *op);

/* Adds to sum[tap] the input value every output position of the weighted op reads at
 * that tap (0 where the tap is padding), given its input x; returns the number of output
 * positions (per channel).  Dividing gives the mean input per tap, which with a weight
 * change dW shifts every output of channel o by sum over taps of dW[o, tap] * mean[tap]. */
int64_t tm_interp_tap_sums(const tm_op *op, const float *x, double *sum);

#endif /* TM_INTERP_H */
