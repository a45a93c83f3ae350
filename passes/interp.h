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

#endif /* TM_INTERP_H */
