# Writes N random models of nested If nodes on constant conditions (Cast of an initializer, which folding
# computes) and on an input, whose sibling branches reuse names: structural inputs for the fuzz_model
# target over constant folding and graph/if_inlining. Usage: random_if_models.py OUT N SEED
import random, sys, numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper
out_dir, n_models, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
SHAPE = [2, 3]
class Ctx:
    def __init__(self): self.uid = 0
    def fresh(self, p): self.uid += 1; return f"{p}{self.uid}"

def make_branch(ctx, depth, visible, consts, nouts, local_names):
    # visible: names readable (outer); consts: names of constant bool conds visible
    nodes, inits, local = [], [], []
    used = set()
    def lname():
        # sibling branches reuse these names on purpose
        for c in local_names:
            if c not in used and c not in visible: used.add(c); return c
        return ctx.fresh("v")
    for _ in range(rng.randint(1, 4)):
        avail = visible + local
        r = rng.random()
        if r < 0.15:
            nm = lname(); inits.append(numpy_helper.from_array(np.random.RandomState(rng.randint(0, 1 << 30)).randn(*SHAPE).astype(np.float32), nm)); local.append(nm)
        elif r < 0.35 and depth < 3:
            cond = rng.choice(consts + ["flag"]) if rng.random() < 0.85 else "flag"
            k = rng.randint(1, 2)
            outs = [lname() for _ in range(k)]
            # sub-branches see everything visible here
            sub_vis = visible + local
            names = [f"n{depth}_{i}" for i in range(4)]
            tb = make_branch(ctx, depth + 1, sub_vis, consts, k, names)
            eb = make_branch(ctx, depth + 1, sub_vis, consts, k, names)
            nodes.append(helper.make_node("If", [cond], outs, name=ctx.fresh("if"), then_branch=tb, else_branch=eb))
            local += outs
        else:
            op = rng.choice(["Add", "Mul", "Sub", "Neg", "Abs", "Tanh", "Identity", "Max"])
            ins = [rng.choice(avail)] if op in ("Neg", "Abs", "Tanh", "Identity") else [rng.choice(avail), rng.choice(avail)]
            o = lname(); nodes.append(helper.make_node(op, ins, [o], name=ctx.fresh(op.lower()))); local.append(o)
    outs = []
    pool = local + visible
    for _ in range(nouts):
        c = rng.choice(pool if rng.random() < 0.3 else (local or pool))
        if c in outs:  # a graph output must not repeat
            o = lname(); nodes.append(helper.make_node("Identity", [c], [o], name=ctx.fresh("id"))); c = o
        outs.append(c)
    return helper.make_graph(nodes, ctx.fresh("g"), [], [helper.make_tensor_value_info(o, TensorProto.FLOAT, SHAPE) for o in outs], inits)

for m_i in range(n_models):
    ctx = Ctx()
    nodes, inits = [], []
    inits.append(numpy_helper.from_array(np.random.RandomState(m_i).randn(*SHAPE).astype(np.float32), "k"))
    consts = []
    for c in range(rng.randint(1, 3)):
        name = f"c{c}"
        inits.append(numpy_helper.from_array(np.array(rng.randint(0, 1), dtype=np.int64), name + "_flag"))
        nodes.append(helper.make_node("Cast", [name + "_flag"], [name], to=TensorProto.BOOL, name=name + "_cast"))
        consts.append(name)
    visible = ["x", "k"]
    top_outs = []
    for t in range(rng.randint(1, 3)):
        k = rng.randint(1, 2)
        outs = [f"out{t}_{i}" for i in range(k)]
        names = [f"n0_{i}" for i in range(4)]
        tb = make_branch(ctx, 1, visible + top_outs, consts, k, names)
        eb = make_branch(ctx, 1, visible + top_outs, consts, k, names)
        cond = rng.choice(consts) if rng.random() < 0.8 else "flag"
        nodes.append(helper.make_node("If", [cond], outs, name=f"top{t}", then_branch=tb, else_branch=eb))
        top_outs += outs
    g = helper.make_graph(nodes, "main", [helper.make_tensor_value_info("x", TensorProto.FLOAT, SHAPE),
                                          helper.make_tensor_value_info("flag", TensorProto.BOOL, [])],
                          [helper.make_tensor_value_info(o, TensorProto.FLOAT, SHAPE) for o in top_outs], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, f"{out_dir}/m{m_i:04d}.onnx")
