/* passes/depthwise_lowering.c — prepare depthwise convolutions for the specialized loop
 * nest of lower-to-loops (passes/lower_nn.c, docs/passes.md):
 *  - a tm.conv2d of one input channel is a depthwise convolution with depth_multiplier =
 *    output channels (TFLite's grouped convolution with groups = input channels = 1;
 *    tm.conv2d has no other grouped form: its filter's input channels equal the input's).
 *    The filter [O,kh,kw,1] becomes [1,kh,kw,O], per-axis scales move from axis 0 to 3.
 *    Each output channel sums the same taps in the same order: the same bits.
 *  - every tm.depthwise_conv2d with at most max-taps taps gets tm.dw_channel_loop, which
 *    selects the specialized nest (border/interior split, unrolled taps), where legal
 *    tm.dw_in_place: the output overwrites the input channel by channel, and with
 *    loop-border tm.dw_loop_border: the border's taps stay loops.
 * In place is legal when the input's bytes die here: it is produced by an op that owns
 * them (not an argument, a constant, or a reshape/squeeze view of another tensor), this
 * op is its only user, the depth multiplier is 1 and the output has no more pixels than
 * the input; and useful only when the result is not returned (it is then written to its
 * out-param directly). */
#include <string.h>

#include "passes/passes.h"

typedef struct dwl {
  tm_ctx *ctx;
  tm_rewriter rw;
  const char *order;
  bool in_place, convert, loop_border;
  int64_t max_taps;
} dwl;

static bool static4(const tm_value *v) {
  return v->type->kind == TM_TYPE_TENSOR && v->type->rank == 4 && tm_type_is_static(v->type);
}

/* conv2d with one input channel -> depthwise_conv2d with depth_multiplier O. */
static void convert_conv(dwl *P, tm_op *op) {
  tm_value *x = tm_op_operand(op, 0), *w = tm_op_operand(op, 1);
  const tm_attr *wv = tm_value_const(w);
  if (!static4(x) || !static4(w) || x->type->dims[3] != 1 || !wv || wv->kind != TM_ATTR_DENSE) return;
  const tm_type *we = w->type->elem;
  if (we->kind == TM_TYPE_QUANT && we->axis >= 0 && we->axis != 0) return;
  const int64_t *wd = w->type->dims;
  int64_t O = wd[0], taps = wd[1] * wd[2];
  size_t esz = tm_type_elem_bits(w->type) / 8;
  if (!esz || (!wv->u.dense.splat && wv->u.dense.nbytes != (size_t)(O * taps) * esz)) return;
  /* [O, kh, kw, 1] -> [1, kh, kw, O] */
  int64_t nd[4] = {1, wd[1], wd[2], O};
  if (we->kind == TM_TYPE_QUANT && we->axis == 0)
    we = tm_type_quant(P->ctx, we->storage, we->expressed, we->storage_min, we->storage_max, 3, we->nscales,
                       we->scales, we->zero_points);
  const tm_type *nt = tm_type_tensor(P->ctx, we, 4, nd);
  const tm_type *st = tm_type_tensor(P->ctx, tm_type_storage(we), 4, nd);
  const tm_attr *nv;
  if (wv->u.dense.splat) {
    nv = tm_attr_dense(P->ctx, st, true, wv->u.dense.data, esz);
  } else {
    uint8_t *data = TM_NEW_ARRAY(tm_ctx_arena(P->ctx), uint8_t, wv->u.dense.nbytes);
    for (int64_t o = 0; o < O; o++)
      for (int64_t t = 0; t < taps; t++) memcpy(data + (t * O + o) * esz, wv->u.dense.data + (o * taps + t) * esz, esz);
    nv = tm_attr_dense(P->ctx, st, false, data, wv->u.dense.nbytes);
  }
  tm_op *c = tm_rw_const_before(&P->rw, op, nv, nt, w->def ? w->def->loc : op->loc);
  tm_named_attr attrs[8];
  int n = 0;
  for (int i = 0; i < op->nattrs && n < 7; i++) attrs[n++] = op->attrs[i];
  attrs[n++] = (tm_named_attr){tm_intern_cstr(P->ctx, "depth_multiplier"), tm_attr_int(P->ctx, NULL, O)};
  tm_value *operands[3] = {x, tm_op_result(c, 0), op->noperands > 2 ? tm_op_operand(op, 2) : NULL};
  const tm_type *rt = tm_op_result(op, 0)->type;
  tm_op_state st_ = {.name = "tm.depthwise_conv2d", .loc = op->loc, .noperands = op->noperands,
                     .operands = operands, .nresults = 1, .result_types = &rt, .nattrs = n, .attrs = attrs};
  tm_op *d = tm_rw_create_before(&P->rw, op, &st_);
  tm_value *r = tm_op_result(d, 0);
  tm_rw_replace_op(&P->rw, op, &r);
  if (!tm_value_has_uses(w) && w->def) tm_rw_erase_op(&P->rw, w->def);
}

static bool returned(const tm_value *v) {
  for (tm_use *u = v->uses; u; u = u->next)
    if (tm_op_is(u->user, "func.return")) return true;
  return false;
}

static bool in_place_legal(tm_op *op) {
  tm_value *x = tm_op_operand(op, 0), *y = tm_op_result(op, 0);
  const tm_op *def = x->def;
  if (!def || tm_op_is(def, "tm.const") || tm_op_is(def, "tm.reshape") || tm_op_is(def, "tm.squeeze")) return false;
  if (!tm_value_has_one_use(x) || returned(y)) return false;
  const int64_t *xd = x->type->dims, *yd = y->type->dims;
  /* The lowering can write a smaller output (stride 2) in place too, but then the input's
   * bytes stay reserved as long as the output lives: a saving at this op, a loss after
   * it (patch-based vww: +3.4 kB).  Only equal sizes are written in place. */
  return yd[3] == xd[3] && yd[1] * yd[2] == xd[1] * xd[2] && tm_type_elem_bits(x->type) == tm_type_elem_bits(y->type);
}

static void mark(dwl *P, tm_op *op) {
  tm_value *x = tm_op_operand(op, 0), *w = tm_op_operand(op, 1), *y = tm_op_result(op, 0);
  /* tm.depthwise_conv2d_fc (fuse): the conv's result is conv_result, never stored */
  const tm_attr *cr = tm_op_attr(op, "conv_result");
  const tm_type *yt = cr ? cr->type : y->type;
  if (!static4(x) || !static4(w) || yt->kind != TM_TYPE_TENSOR || yt->rank != 4 || !tm_type_is_static(yt) ||
      w->type->dims[1] * w->type->dims[2] > P->max_taps)
    return;
  bool in_place = P->in_place && !cr && in_place_legal(op);
  tm_rw_set_attr(&P->rw, op, "tm.dw_channel_loop", tm_attr_cstr(P->ctx, in_place ? "outer" : P->order));
  if (in_place) tm_rw_set_attr(&P->rw, op, "tm.dw_in_place", tm_attr_unit(P->ctx));
  if (P->loop_border) tm_rw_set_attr(&P->rw, op, "tm.dw_loop_border", tm_attr_unit(P->ctx));
}

static bool visit(tm_op *op, void *user) {
  dwl *P = user;
  if (P->convert && tm_op_is(op, "tm.conv2d")) convert_conv(P, op);
  return true;
}

static bool visit_dw(tm_op *op, void *user) {
  if (tm_op_is(op, "tm.depthwise_conv2d") || tm_op_is(op, "tm.depthwise_conv2d_fc")) mark(user, op);
  return true;
}

static const tm_pass_option options[] = {
    {.name = "channel-loop", .kind = TM_OPT_STRING, .default_value = "outer",
     .help = "Where the channel loop goes: \"inner\" (innermost, contiguous NHWC accesses) or \"outer\" (outermost: "
             "the channel's weights and requantization hoisted out of the spatial loops)"},
    {.name = "in-place", .kind = TM_OPT_BOOL, .default_value = "true",
     .help = "Write the output over a dead input one channel at a time (implies channel-loop=outer for that op)"},
    {.name = "max-taps", .kind = TM_OPT_INT, .default_value = "100", .min = 1, .max = 1024,
     .help = "Specialize kernels of at most this many taps (kh * kw)"},
    {.name = "loop-border", .kind = TM_OPT_BOOL, .default_value = "false",
     .help = "Outside the interior, loop over the taps (with bounds checks) instead of unrolling them: less flash"},
    {.name = "convert-conv", .kind = TM_OPT_BOOL, .default_value = "true",
     .help = "Rewrite conv2d of one input channel as depthwise_conv2d"},
};

static int run(tm_ctx *ctx, tm_op *root, const tm_pass_options *opts) {
  dwl P = {.ctx = ctx, .rw = tm_rewriter_make(ctx), .order = tm_pass_opt_str(opts, "channel-loop"),
           .in_place = tm_pass_opt_bool(opts, "in-place"), .convert = tm_pass_opt_bool(opts, "convert-conv"),
           .loop_border = tm_pass_opt_bool(opts, "loop-border"),
           .max_taps = tm_pass_opt_int(opts, "max-taps")};
  if (strcmp(P.order, "inner") && strcmp(P.order, "outer")) {
    tm_error(ctx, root->loc, "depthwise-lowering: option 'channel-loop' must be \"inner\" or \"outer\", not \"%s\"",
             P.order);
    return -1;
  }
  tm_op_walk(root, visit, &P);
  tm_op_walk(root, visit_dw, &P);
  return 0;
}

TM_REGISTER_PASS(depthwise_lowering, "depthwise-lowering",
                 "Turn single-channel conv2d into depthwise_conv2d and select the specialized (unrolled, "
                 "border/interior split, optionally in-place) depthwise loop nest of lower-to-loops",
                 run, TM_PASS_OPTIONS(options));
