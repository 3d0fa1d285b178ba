# Writes N small random models whose nodes read the graph's inputs (so nothing folds away at load) and form
# a DAG of a few dozen nodes: what fuzz_plan_model needs to place nodes on two devices in many ways. The ops
# are chosen for the memory plan and the hand-overs: views (Identity, Reshape, Flatten, Squeeze, Unsqueeze),
# several outputs (Split, TopK, LSTM), data-dependent sizes (NonZero), other element types (Cast, Shape),
# nested graphs reading outer values (If, Loop), sequences, LSTM/GRU/RNN with sequence lengths (constant or
# a graph input) and outputs nobody reads, kernels that write their outputs in parts (Pad, Scatter, CumSum),
# and graph outputs that are inputs, views or read by other nodes too.
#
#   /usr/bin/python3 tests/fuzz/random_dag_models.py OUT N SEED
import os
import random
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class Builder:
    def __init__(self, rng):
        self.rng = rng
        self.nodes, self.inits, self.inputs = [], [], []
        self.values = {}  # name -> (elem type, shape), of the main graph
        self.n = 0
        self.lens = {}  # batch size -> an int32 graph input of sequence lengths

    def name(self, prefix):
        self.n += 1
        return f"{prefix}{self.n}"

    def const(self, arr):
        nm = self.name("c")
        self.inits.append(numpy_helper.from_array(np.asarray(arr), nm))
        return nm

    def node(self, op, ins, outs_info, **attrs):
        outs = [self.name("v") for _ in outs_info]
        self.nodes.append(helper.make_node(op, ins, outs, name=self.name(op.lower() + "_"), **attrs))
        for o, info in zip(outs, outs_info):
            self.values[o] = info
        return outs

    def floats(self):
        return [v for v, (t, _) in self.values.items() if t == TensorProto.FLOAT]


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def add_op(b, rng):
    fl = b.floats()
    x = rng.choice(fl)
    _, s = b.values[x]
    op = rng.choice(["unary", "unary", "binary", "binary", "Identity", "Reshape", "Flatten", "Unsqueeze", "Squeeze",
                     "Transpose", "Concat", "Split", "Slice", "MatMul", "ReduceSum", "Cast", "NonZero", "Shape",
                     "TopK", "If", "Loop", "Sequence", "Expand", "Where", "Recurrent", "Recurrent", "Pad", "CumSum",
                     "Softmax", "Gather", "ReduceMax", "Tile", "LayerNormalization", "ScatterElements"])
    F = TensorProto.FLOAT
    if op == "unary":
        b.node(rng.choice(["Relu", "Neg", "Abs", "Tanh", "Sigmoid", "Sqrt", "Floor"]), [x], [(F, s)])
    elif op == "binary":
        same = [v for v in fl if b.values[v][1] == s]
        y = rng.choice(same)
        b.node(rng.choice(["Add", "Mul", "Sub", "Max", "Min", "Div"]), [x, y], [(F, s)])
    elif op == "Identity":
        b.node("Identity", [x], [(F, s)])
    elif op == "Reshape":
        n = numel(s)
        shapes = [[n], [1, n]] + [[a, n // a] for a in range(1, n + 1) if n % a == 0]
        t = rng.choice(shapes)
        b.node("Reshape", [x, b.const(np.array(t, dtype=np.int64))], [(F, t)])
    elif op == "Flatten":
        axis = rng.randint(0, len(s))
        t = [numel(s[:axis]), numel(s[axis:])]
        b.node("Flatten", [x], [(F, t)], axis=axis)
    elif op == "Unsqueeze":
        b.node("Unsqueeze", [x, b.const(np.array([0], dtype=np.int64))], [(F, [1] + s)])
    elif op == "Squeeze":
        if s and s[0] == 1:
            b.node("Squeeze", [x, b.const(np.array([0], dtype=np.int64))], [(F, s[1:])])
    elif op == "Transpose":
        b.node("Transpose", [x], [(F, list(reversed(s)))])
    elif op == "Concat" and s and numel(s) < 64:
        same = [v for v in fl if b.values[v][1] == s]
        y = rng.choice(same)
        b.node("Concat", [x, y], [(F, [2 * s[0]] + s[1:])], axis=0)
    elif op == "Split" and s and s[0] >= 2:
        a = rng.randint(1, s[0] - 1)
        b.node("Split", [x, b.const(np.array([a, s[0] - a], dtype=np.int64))], [(F, [a] + s[1:]), (F, [s[0] - a] + s[1:])],
               axis=0)
    elif op == "Slice" and s and s[0] >= 1:
        e = rng.randint(1, s[0])
        b.node("Slice", [x, b.const(np.array([0], dtype=np.int64)), b.const(np.array([e], dtype=np.int64))],
               [(F, [e] + s[1:])])
    elif op == "MatMul" and len(s) == 2:
        t = b.node("Transpose", [x], [(F, [s[1], s[0]])])[0]
        b.node("MatMul", [x, t], [(F, [s[0], s[0]])])
    elif op == "ReduceSum" and s:
        b.node("ReduceSum", [x, b.const(np.array([0], dtype=np.int64))], [(F, [1] + s[1:])], keepdims=1)
    elif op == "Cast":
        d = b.node("Cast", [x], [(TensorProto.DOUBLE, s)], to=TensorProto.DOUBLE)[0]
        d = b.node(rng.choice(["Neg", "Abs", "Identity"]), [d], [(TensorProto.DOUBLE, s)])[0]
        b.node("Cast", [d], [(F, s)], to=F)
    elif op == "NonZero":
        g = b.node("Greater", [x, b.const(np.array(0.0, dtype=np.float32))], [(TensorProto.BOOL, s)])[0]
        nz = b.node("NonZero", [g], [(TensorProto.INT64, None)])[0]
        c = b.node("Cast", [nz], [(F, None)], to=F)[0]
        b.values[c] = (TensorProto.UNDEFINED, None)  # data-dependent shape: not an operand of shaped ops
        b.node("ReduceSum", [c], [(F, [1, 1])], keepdims=1)
    elif op == "Shape":
        sh = b.node("Shape", [x], [(TensorProto.INT64, [len(s)])])[0]
        b.node("Cast", [sh], [(F, [len(s)])], to=F)
    elif op == "TopK" and s and s[-1] >= 1:
        k = rng.randint(1, s[-1])
        v, i = b.node("TopK", [x, b.const(np.array([k], dtype=np.int64))], [(F, s[:-1] + [k]), (TensorProto.INT64, s[:-1] + [k])])
        b.node("Cast", [i], [(F, s[:-1] + [k])], to=F)
    elif op == "Expand" and s and s[0] == 1:
        b.node("Expand", [x, b.const(np.array([3] + s[1:], dtype=np.int64))], [(F, [3] + s[1:])])
    elif op == "Where":
        same = [v for v in fl if b.values[v][1] == s]
        y = rng.choice(same)
        g = b.node("Less", [x, y], [(TensorProto.BOOL, s)])[0]
        b.node("Where", [g, x, y], [(F, s)])
    elif op == "If":
        same = [v for v in fl if b.values[v][1] == s]
        y = rng.choice(same)
        r = b.node("ReduceSum", [x], [(F, [])], keepdims=0)[0]
        cond = b.node("Greater", [r, b.const(np.array(0.0, dtype=np.float32))], [(TensorProto.BOOL, [])])[0]

        def branch(tag, body_op):
            o = b.name("bo")
            ins = [x] if body_op in ("Identity", "Neg") else [x, y]
            n = helper.make_node(body_op, ins, [o])
            return helper.make_graph([n], b.name(tag), [], [helper.make_tensor_value_info(o, F, s)])

        b.node("If", [cond], [(F, s)], then_branch=branch("then", rng.choice(["Identity", "Add", "Mul"])),
               else_branch=branch("else", rng.choice(["Neg", "Sub", "Identity"])))
    elif op == "Loop":
        same = [v for v in fl if b.values[v][1] == s]
        y = rng.choice(same)
        it, cin, vin = b.name("i"), b.name("cond"), b.name("acc")
        cout, vout, scan = b.name("cond"), b.name("acc"), b.name("scan")
        body = helper.make_graph(
            [helper.make_node("Identity", [cin], [cout]), helper.make_node("Add", [vin, y], [vout]),
             helper.make_node(rng.choice(["Identity", "Relu"]), [vout], [scan])],
            b.name("body"),
            [helper.make_tensor_value_info(it, TensorProto.INT64, []),
             helper.make_tensor_value_info(cin, TensorProto.BOOL, []), helper.make_tensor_value_info(vin, F, s)],
            [helper.make_tensor_value_info(cout, TensorProto.BOOL, []), helper.make_tensor_value_info(vout, F, s),
             helper.make_tensor_value_info(scan, F, s)])
        trips = rng.randint(0, 3)
        b.node("Loop", [b.const(np.array(trips, dtype=np.int64)), b.const(np.array(True)), x], [(F, s), (F, [trips] + s)],
               body=body)
    elif op == "Recurrent" and len(s) == 3 and numel(s) > 0:
        # LSTM, GRU or RNN over x as [seq, batch, input] (or batch first), some optional inputs and outputs.
        kind = rng.choice(["LSTM", "GRU", "RNN"])
        gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[kind]
        layout = rng.randint(0, 1)
        T, B, I = (s[1], s[0], s[2]) if layout else (s[0], s[1], s[2])
        H = rng.randint(1, 4)
        direction = rng.choice(["forward", "reverse", "bidirectional"])
        D = 2 if direction == "bidirectional" else 1
        r = np.random.RandomState(rng.randint(0, 1 << 30))
        ins = [x, b.const((r.randn(D, gates * H, I) * 0.5).astype(np.float32)),
               b.const((r.randn(D, gates * H, H) * 0.5).astype(np.float32))]
        extra = rng.random()
        ins.append(b.const((r.randn(D, 2 * gates * H) * 0.1).astype(np.float32)) if extra < 0.7 else "")
        if rng.random() < 0.5:
            ins.append(b.const(np.array([rng.randint(0, T) for _ in range(B)], dtype=np.int32)))
        elif rng.random() < 0.5 and b.lens.get(B):
            ins.append(b.lens[B])
        else:
            ins.append("")
        if rng.random() < 0.4:
            ins.append(b.const((r.randn(*([B, D, H] if layout else [D, B, H])) * 0.5).astype(np.float32)))
        while ins and ins[-1] == "":
            ins.pop()
        y = [T, D, B, H] if not layout else [B, T, D, H]
        yh = [D, B, H] if not layout else [B, D, H]
        outs = [(F, y), (F, yh)] + ([(F, yh)] if kind == "LSTM" else [])
        attrs = dict(hidden_size=H, direction=direction, layout=layout)
        if kind == "GRU" and rng.random() < 0.5:
            attrs["linear_before_reset"] = 1
        names = b.node(kind, ins, outs, **attrs)
        if rng.random() < 0.3:  # an output nobody asks for
            b.nodes[-1].output[0] = ""
            del b.values[names[0]]
    elif op == "Pad" and s:
        pads = [rng.randint(0, 2) for _ in range(2 * len(s))]
        t = [d + pads[i] + pads[i + len(s)] for i, d in enumerate(s)]
        b.node("Pad", [x, b.const(np.array(pads, dtype=np.int64))], [(F, t)], mode=rng.choice(["constant", "edge", "reflect"]))
    elif op == "CumSum" and s:
        b.node("CumSum", [x, b.const(np.array(rng.randint(0, len(s) - 1), dtype=np.int64))], [(F, s)],
               exclusive=rng.randint(0, 1), reverse=rng.randint(0, 1))
    elif op == "Softmax" and s:
        b.node("Softmax", [x], [(F, s)], axis=rng.randint(-len(s), len(s) - 1))
    elif op == "LayerNormalization" and s and s[-1] > 0:
        b.node("LayerNormalization", [x, b.const(np.ones(s[-1], dtype=np.float32))], [(F, s)], axis=-1)
    elif op == "Gather" and s and s[0] > 0:
        idx = [rng.randint(-s[0], s[0] - 1) for _ in range(rng.randint(1, 4))]
        b.node("Gather", [x, b.const(np.array(idx, dtype=np.int64))], [(F, [len(idx)] + s[1:])], axis=0)
    elif op == "ReduceMax" and s:
        b.node("ReduceMax", [x], [(F, [1] * len(s))], keepdims=1)
    elif op == "Tile" and s and numel(s) < 64:
        reps = [rng.randint(1, 2) for _ in s]
        b.node("Tile", [x, b.const(np.array(reps, dtype=np.int64))], [(F, [d * k for d, k in zip(s, reps)])])
    elif op == "ScatterElements" and s and s[0] > 0:
        same = [v for v in fl if b.values[v][1] == s]
        y = rng.choice(same)
        idx = np.random.RandomState(rng.randint(0, 1000)).randint(0, s[0], size=s).astype(np.int64)
        b.node("ScatterElements", [x, b.const(idx), y], [(F, s)], axis=0,
               reduction=rng.choice(["none", "add", "mul"]))
    elif op == "Sequence":
        same = [v for v in fl if b.values[v][1] == s]
        y = rng.choice(same)
        seq = b.node("SequenceConstruct", [x, y], [(TensorProto.UNDEFINED, None)])[0]
        if rng.random() < 0.5:
            b.node("SequenceAt", [seq, b.const(np.array(rng.randint(-2, 1), dtype=np.int64))], [(F, s)])
        else:
            b.node("ConcatFromSequence", [seq], [(F, [2 * s[0]] + s[1:] if s else [2])], axis=0, new_axis=0 if s else 1)


def make_model(rng):
    b = Builder(rng)
    F = TensorProto.FLOAT
    for k in range(rng.randint(1, 3)):
        s = rng.choice([[2, 3], [6], [1, 4], [3, 2, 2], [4, 4], [1], [], [5, 2, 3], [3, 1, 4]])
        nm = f"x{k}"
        b.inputs.append(helper.make_tensor_value_info(nm, F, s))
        b.values[nm] = (F, s)
    if rng.random() < 0.3:
        # Sequence lengths for the recurrent nodes, as a graph input: random values in [0, 10), so some
        # are over the sequence's length (an error on either device) and the runs' sizes differ.
        for batch in (1, 2):
            nm = f"lens{batch}"
            b.inputs.append(helper.make_tensor_value_info(nm, TensorProto.INT32, [batch]))
            b.lens[batch] = nm
    for _ in range(rng.randint(3, 30)):
        add_op(b, rng)
    names = list(b.values)
    outs = []
    for _ in range(rng.randint(1, 5)):
        o = rng.choice(names[-8:] if rng.random() < 0.5 else names)
        t, s = b.values[o]
        if t == TensorProto.UNDEFINED or o in outs:  # tandem refuses an output listed twice
            continue
        outs.append(o)
    if not outs:
        outs.append(names[-1] if b.values[names[-1]][0] != TensorProto.UNDEFINED else "x0")
    outputs = [helper.make_tensor_value_info(o, b.values[o][0], b.values[o][1]) for o in outs]
    g = helper.make_graph(b.nodes, "dag", b.inputs, outputs, b.inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def main():
    out, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    os.makedirs(out, exist_ok=True)
    rng = random.Random(seed)
    for k in range(n):
        m = make_model(rng)
        with open(os.path.join(out, f"dag_{seed}_{k}.onnx"), "wb") as f:
            f.write(m.SerializeToString())


if __name__ == "__main__":
    main()
