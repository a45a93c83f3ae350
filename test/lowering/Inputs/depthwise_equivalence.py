# Random depthwise layers (int8 and f32; 3x3, 5x5, 7x7, 9x9, 10x8, 10x4 and 1x1 kernels;
# strides 1 and 2; same and valid padding; dilation; depth multipliers; inputs that die
# at the layer, so in place applies; wide and tall images) run by tinyml-run (C backend) with the reference
# nest, with depthwise-lowering's nests and with the DSP kernels: every output must be the
# same bytes.
# usage: depthwise_equivalence.py WORKDIR [SEED]
import os, random, struct, subprocess, sys
work = sys.argv[1]
random.seed(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
R = "tinyml-run"
def hexs(b): return '"0x' + b.hex().upper() + '"'
def out_dim(i, k, s, d, pad):
    eff = (k - 1) * d + 1
    return (i + s - 1) // s if pad == "same" else (i - eff + s) // s
cases = []
for (k, s, pad, d, M, flt, H, W, C, chain) in [
    (3,1,"same",1,1,False,7,6,5,True), (3,2,"same",1,1,False,9,8,3,True), (3,2,"same",1,1,False,8,8,4,True),
    (5,1,"same",1,1,False,6,7,3,True), (5,2,"valid",1,1,False,11,9,2,True), (3,1,"valid",1,2,False,5,6,3,False),
    (3,1,"same",2,1,False,7,7,2,True), (3,1,"same",1,1,True,6,5,3,True), (5,2,"same",1,2,True,9,9,2,False),
    (3,2,"same",1,1,False,2,3,4,True), (3,1,"same",1,1,False,1,1,4,True), (1,1,"same",1,1,False,4,4,3,True),
    (3,1,"same",1,1,False,3,20,3,True), ((10,8),2,"same",1,8,False,20,16,1,False), ((10,4),2,"same",1,4,False,15,10,1,True),
    ((7,7),1,"same",1,1,True,9,9,2,True), ((9,9),2,"valid",1,1,False,12,13,3,True), ((10,8),1,"same",1,1,False,5,4,2,True),
    (3,1,"same",1,1,False,5,9,8,True), (3,1,"valid",1,1,False,6,7,5,True), ((5,3),1,"same",1,1,False,7,6,4,True),
    ((1,3),1,"valid",1,1,False,3,8,6,True), (3,1,"same",1,1,False,4,2,4,False), (3,1,"same",1,1,False,5,6,1,True),
    # tall and narrow: the DSP kernel runs along the columns (in place or not; valid: the
    # output smaller than the input)
    (3,1,"same",1,1,False,25,5,4,True), (3,1,"valid",1,1,False,9,4,3,True), (3,1,"same",1,1,False,11,3,2,False),
    (3,1,"valid",1,1,False,8,3,5,True)]:
    kh, kw = (k, k) if isinstance(k, int) else k
    OH, OW = out_dim(H, kh, s, d, pad), out_dim(W, kw, s, d, pad)
    O = C * M
    if flt:
        xt = f"tensor<1x{H}x{W}x{C}xf32>"; wt = f"tensor<1x{kh}x{kw}x{O}xf32>"; bt = f"tensor<{O}xf32>"; yt = f"tensor<1x{OH}x{OW}x{O}xf32>"
        wb = b''.join(struct.pack('<f', random.uniform(-1,1)) for _ in range(kh*kw*O))
        bb = b''.join(struct.pack('<f', random.uniform(-1,1)) for _ in range(O))
        wconst = f'"tm.const"() {{value = dense<{hexs(wb)}> : {wt}}} : () -> {wt}'
        bconst = f'"tm.const"() {{value = dense<{hexs(bb)}> : {bt}}} : () -> {bt}'
        inbytes = b''.join(struct.pack('<f', random.uniform(-2,2)) for _ in range(H*W*C))
    else:
        xq = f"!quant.uniform<i8:f32, 0.05:{random.randint(-20,20)}>"
        yq = f"!quant.uniform<i8:f32, 0.07:{random.randint(-10,10)}>"
        scales = ",".join(f"{random.uniform(0.005,0.03):.5f}" for _ in range(O))
        wq = f"!quant.uniform<i8:f32:3, {{{scales}}}>"
        xt = f"tensor<1x{H}x{W}x{C}x{xq}>"; yt = f"tensor<1x{OH}x{OW}x{O}x{yq}>"
        wt = f"tensor<1x{kh}x{kw}x{O}x{wq}>"; bt = f"tensor<{O}xi32>"
        wb = bytes(random.randint(0,255) for _ in range(kh*kw*O))
        bb = b''.join(struct.pack('<i', random.randint(-3000,3000)) for _ in range(O))
        wconst = f'"tm.const"() {{value = dense<{hexs(wb)}> : tensor<1x{kh}x{kw}x{O}xi8>}} : () -> {wt}'
        bconst = f'"tm.const"() {{value = dense<{hexs(bb)}> : {bt}}} : () -> {bt}'
        inbytes = bytes(random.randint(0,255) for _ in range(H*W*C))
    act = random.choice(["none", "relu", "relu6"])
    body = []
    src = "%arg0"
    if chain:  # a producer that owns its bytes, so the input dies at the depthwise
        body.append(f'%p = "tm.relu"(%arg0) : ({xt}) -> {xt}')
        src = "%p"
    body.append(f'%w = {wconst}')
    body.append(f'%b = {bconst}')
    body.append(f'%y = "tm.depthwise_conv2d"({src}, %w, %b) {{padding = "{pad}", stride = [{s}, {s}], dilation = [{d}, {d}], depth_multiplier = {M}, fused_activation = "{act}"}} : ({xt}, {wt}, {bt}) -> {yt}')
    res = "%y"
    if chain:
        body.append(f'%z = "tm.relu"(%y) : ({yt}) -> {yt}')
        res = "%z"
    body.append(f'return {res} : {yt}')
    text = f"module {{\n  func.func @main(%arg0: {xt}) -> {yt} {{\n    " + "\n    ".join(body) + "\n  }\n}\n"
    cases.append((text, inbytes))
fails = 0
for i, (text, inb) in enumerate(cases):
    d = os.path.join(work, f"c{i}"); os.makedirs(d, exist_ok=True)
    open(f"{d}/m.tir", "w").write(text); open(f"{d}/in.bin", "wb").write(inb)
    outs = []
    for tag, pipe in [("ref", "canonicalize,lower-to-loops,plan-memory"),
                      ("dw", "canonicalize,depthwise-lowering,lower-to-loops,plan-memory"),
                      ("dwo", "canonicalize,depthwise-lowering{channel-loop=outer in-place=false},lower-to-loops,plan-memory"),
                      ("dwl", "canonicalize,depthwise-lowering{loop-border=true},lower-to-loops,plan-memory"),
                      # the DSP kernels (docs/dsp.md; lower_dsp_depthwise.c), in place and not
                      ("dsp", "canonicalize,depthwise-lowering,lower-to-loops{target=cortex-m4},plan-memory"),
                      ("dspn", "canonicalize,lower-to-loops{target=cortex-m4},plan-memory")]:
        r = subprocess.run([R, f"{d}/m.tir", "--input", f"{d}/in.bin", "--output", f"{d}/{tag}.bin", f"--pass-pipeline={pipe}"], capture_output=True, text=True)
        if r.returncode: print(i, tag, "FAILED", r.stderr[:2000]); fails += 1; outs.append(None); continue
        outs.append(open(f"{d}/{tag}.bin", "rb").read())
    ok = outs[0] is not None and all(o == outs[0] for o in outs)
    if not ok: fails += 1
    print(i, "ok" if ok else "MISMATCH")
print("fails", fails)
sys.exit(1 if fails else 0)
