# Structural fuzzing of the string ops: writes N small random models (one to three nodes over string
# tensors, random attributes, shapes and constants, some of them invalid on purpose) for the model target
# to run, e.g. `fuzz_model -runs=0 dir/` or as a corpus to mutate further (tests/fuzz/README.md).
# Usage: /usr/bin/python3 random_string_models.py OUT_DIR N [SEED]
import os
import random
import sys

import numpy as np
import onnx
from onnx import TensorProto as TP, helper, numpy_helper

WORDS = ["", "a", "The", "CAT", "ß", "İstanbul", "ǅ", "ﬁ", "\u0130", "Σας", "\U0001f600", "a\u0000b", "\xff\xfe",
         "1", "-0", " 12 ", "1e400", "-1e-400", "nan", "-NaN", "INF", "-inf", "Infinity", "0x10", "1_0", "+5", "+-5",
         "9223372036854775807", "9223372036854775808", "-9223372036854775809", "18446744073709551616", "65504",
         "65520", "3.4028236e38", "1e-46", ".5", "5.", "e5", "true", "FALSE", "nan(123)", "  ", "\t1\n", "١٢"]
LOCALES = ["en_US", "", "C", "POSIX", "tr_TR", "de_DE", "C.UTF-8", "xx_YY", "en_US.UTF-8", "en", "en_GB@euro",
           "LC_CTYPE=C;LC_NUMERIC=C", "../x", "zz@", "en_US.ISO-8859-1"]
NUMERIC = [TP.FLOAT, TP.UINT8, TP.INT8, TP.UINT16, TP.INT16, TP.INT32, TP.INT64, TP.BOOL, TP.FLOAT16, TP.DOUBLE,
           TP.UINT32, TP.UINT64, TP.BFLOAT16, TP.COMPLEX64, 17, 19, 21, 0, 99]


def typed(node, name, values, kind):
    """Sets a list attribute with its type, which helper.make_node cannot tell from an empty list."""
    a = onnx.AttributeProto(name=name, type=kind)
    {onnx.AttributeProto.FLOATS: a.floats, onnx.AttributeProto.INTS: a.ints,
     onnx.AttributeProto.STRINGS: a.strings}[kind].extend(
        [v.encode("utf-8", "surrogateescape") if isinstance(v, str) else v for v in values])
    node.attribute.append(a)
    return node


def rword(r):
    if r.random() < 0.1:
        return "".join(r.choice(WORDS) for _ in range(r.randint(1, 4)))
    return r.choice(WORDS)


def rshape(r, max_rank=3):
    return [r.choice([0, 1, 1, 2, 3, 4]) for _ in range(r.randint(0, max_rank))]


def strings(r, name, shape=None):
    shape = rshape(r) if shape is None else shape
    a = np.array([rword(r) for _ in range(int(np.prod(shape)) if shape else 1)], dtype=object).reshape(shape)
    return numpy_helper.from_array(a, name)


def ints(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def rints(r, n, lo=-4, hi=6):
    return [r.randint(lo, hi) for _ in range(n)]


def node_for(r, op):
    """(nodes, inits, extra opset floor): one op reading string tensor 'x' (an initializer) and writing 'y'."""
    x = strings(r, "x")
    rank = len(x.dims)
    A = helper.make_node
    if op == "StringNormalizer":
        attrs = dict(case_change_action=r.choice(["LOWER", "UPPER", "NONE", "lower", ""]),
                     is_case_sensitive=r.choice([0, 1, 1, 2]))
        if r.random() < 0.8:
            attrs["locale"] = r.choice(LOCALES)
        x = strings(r, "x", r.choice([[r.randint(0, 5)], [1, r.randint(0, 5)], [1, r.randint(1, 5)], [2, 2], []]))
        node = A("StringNormalizer", ["x"], ["y"], **attrs)
        if r.random() < 0.8:
            typed(node, "stopwords", [rword(r) for _ in range(r.randint(0, 4))], onnx.AttributeProto.STRINGS)
        return [node], [x]
    if op == "CastFromString":
        to = r.choice(NUMERIC)
        return [A("Cast", ["x"], ["y"], to=to, **({"saturate": r.randint(0, 1)} if r.random() < 0.2 else {}))], [x]
    if op == "CastToString":
        dt = r.choice([np.float32, np.float64, np.float16, np.int8, np.uint64, np.int64, np.bool_, np.uint8])
        vals = [0.0, -0.0, 1e-5, 1e16, 123456789.0, np.nan, np.inf, -np.inf, 65504, 1e-45, 5e-324, 0.1, 2 ** 63]
        shape = rshape(r)
        n = int(np.prod(shape)) if shape else 1
        with np.errstate(all="ignore"):
            a = np.array([r.choice(vals) for _ in range(n)], dtype=np.float64).astype(dt).reshape(shape)
        nodes = [A("Cast", ["x"], ["y0"], to=TP.STRING), A("Cast", ["y0"], ["y"], to=r.choice(NUMERIC[:13]))]
        return nodes, [numpy_helper.from_array(a, "x")]
    if op == "CastLike":
        like = r.choice([np.float32, np.int32, np.bool_, np.float16, np.uint64])
        return [A("CastLike", ["x", "l"], ["y"])], [x, numpy_helper.from_array(np.zeros([1], like), "l")]
    if op == "TfIdfVectorizer":
        pool = [rword(r) for _ in range(r.randint(0, 8))]
        counts = sorted(r.randint(0, len(pool)) for _ in range(r.randint(0, 3)))
        if r.random() < 0.2:
            counts = rints(r, r.randint(0, 3), -2, len(pool) + 2)
        n_idx = r.randint(0, len(pool) + 1)
        attrs = dict(mode=r.choice(["TF", "IDF", "TFIDF", "TF", "XX"]), min_gram_length=r.choice([1, 1, 2, 0]),
                     max_gram_length=r.choice([1, 2, 3, 4, 0]), max_skip_count=r.choice([0, 1, 2, 5, -1, 1000]))
        node = A("TfIdfVectorizer", ["x"], ["y"], **attrs)
        typed(node, "pool_strings", pool, onnx.AttributeProto.STRINGS)
        typed(node, "ngram_counts", counts, onnx.AttributeProto.INTS)
        typed(node, "ngram_indexes", list(range(n_idx)) if r.random() < 0.6 else rints(r, n_idx, -1, 8),
              onnx.AttributeProto.INTS)
        if r.random() < 0.5:
            typed(node, "weights", [r.uniform(-2, 2) for _ in range(r.choice([n_idx, n_idx, r.randint(0, 9)]))],
                  onnx.AttributeProto.FLOATS)
        if r.random() < 0.05:
            typed(node, "pool_int64s", rints(r, 2), onnx.AttributeProto.INTS)
        x = strings(r, "x", r.choice([[r.randint(0, 6)], [r.randint(0, 3), r.randint(0, 6)], [], [1, 2, 3]]))
        return [node], [x]
    if op == "Gather":
        return [A(r.choice(["Gather", "GatherElements"]), ["x", "i"], ["y"], axis=r.randint(-rank, max(rank - 1, 0)))], \
            [x, ints("i", np.array(rints(r, r.randint(0, 4), -3, 4)).reshape(r.choice([[-1], [1, -1]])))]
    if op == "GatherND":
        return [A("GatherND", ["x", "i"], ["y"], batch_dims=r.randint(0, 1))], \
            [x, ints("i", np.array(rints(r, 2 * r.randint(1, 2), -3, 4)).reshape(-1, r.choice([1, 2])))]
    if op == "Concat":
        return [A("Concat", ["x", "x2"], ["y"], axis=r.randint(-rank - 1, rank))], [x, strings(r, "x2")]
    if op == "Slice":
        k = r.randint(0, 3)
        return [A("Slice", ["x", "s", "e", "a", "st"], ["y"])], \
            [x, ints("s", rints(r, k, -5, 5)), ints("e", rints(r, k, -5, 2 ** 62)), ints("a", rints(r, k, -3, 3)),
             ints("st", [r.choice([1, -1, 2, -2, 0, -(2 ** 63)]) for _ in range(k)])]
    if op == "Pad":
        mode = r.choice(["constant", "reflect", "edge", "wrap", "bogus"])
        ins = ["x", "p"] + (["v"] if r.random() < 0.6 else [])
        return [A("Pad", ins, ["y"], mode=mode)], \
            [x, ints("p", rints(r, 2 * rank + r.choice([0, 0, 1]), -3, 5)), strings(r, "v", [])]
    if op == "Where":
        c = numpy_helper.from_array(np.array([r.random() < 0.5 for _ in range(2)]).reshape(r.choice([[2], [2, 1]])),
                                    "c")
        return [A("Where", ["c", "x", "x2"], ["y"])], [c, x, strings(r, "x2")]
    if op == "Unique":
        attrs = {"sorted": r.randint(0, 1)}
        if r.random() < 0.6:
            attrs["axis"] = r.randint(-rank - 1, rank)
        return [A("Unique", ["x"], ["y", "i1", "i2", "i3"], **attrs)], [x]
    if op == "Tile":
        return [A("Tile", ["x", "t"], ["y"])], [x, ints("t", rints(r, rank + r.choice([0, 0, 1]), 0, 3))]
    if op == "Expand":
        return [A("Expand", ["x", "t"], ["y"])], [x, ints("t", rints(r, r.randint(0, 4), 0, 3))]
    if op == "Transpose":
        perm = list(range(rank))
        r.shuffle(perm)
        return [A("Transpose", ["x"], ["y"], perm=perm if r.random() < 0.9 else perm + [0])], [x]
    if op == "Split":
        return [A("Split", ["x"], ["y", "y2"], axis=r.randint(-rank, max(rank, 1)), num_outputs=2)], [x]
    if op == "Compress":
        return [A("Compress", ["x", "k"], ["y"], **({"axis": r.randint(-rank, rank)} if r.random() < 0.7 else {}))], \
            [x, numpy_helper.from_array(np.array([r.random() < 0.5 for _ in range(r.randint(0, 5))], dtype=bool), "k")]
    if op == "ReverseSequence":
        return [A("ReverseSequence", ["x", "l"], ["y"], batch_axis=r.randint(0, 1), time_axis=r.randint(0, 1))], \
            [x, ints("l", rints(r, r.randint(0, 3), -1, 5))]
    if op == "OneHot":
        return [A("OneHot", ["i", "d", "v"], ["y"], axis=r.randint(-3, 2))], \
            [ints("i", rints(r, r.randint(0, 4))), ints("d", [r.randint(-1, 5)]), strings(r, "v", [r.choice([2, 2, 3])])]
    if op == "ScatterND":
        return [A("ScatterND", ["x", "i", "u"], ["y"])], \
            [x, ints("i", np.array(rints(r, 2, -3, 4)).reshape(-1, r.choice([1, 2]))), strings(r, "u")]
    if op == "ScatterElements":
        return [A("ScatterElements", ["x", "i", "u"], ["y"], axis=r.randint(-rank, max(rank, 1)),
                  **({"reduction": r.choice(["none", "add", "max"])} if r.random() < 0.3 else {}))], \
            [x, ints("i", np.array(rints(r, 2, -3, 4)).reshape([1] * max(rank - 1, 0) + [2])), strings(r, "u")]
    if op == "Trilu":
        return [A("Trilu", ["x", "k"], ["y"], upper=r.randint(0, 1))], [x, ints("k", r.randint(-3, 3))]
    if op == "DepthToSpace":
        return [A(r.choice(["DepthToSpace", "SpaceToDepth"]), ["x"], ["y"], blocksize=r.choice([1, 2, 0, -1]))], \
            [strings(r, "x", [1, r.choice([1, 2, 4, 8]), r.randint(1, 4), r.randint(1, 4)])]
    if op == "ConstantOfShape":
        return [A("ConstantOfShape", ["s"], ["y"], value=strings(r, "v", [1]))], [ints("s", rints(r, 2, 0, 3))]
    if op == "Resize" or op == "Add" or op == "ReduceMax" or op == "ArgMax" or op == "TopK" or op == "Sort":
        ins = {"Resize": ["x", "", "sc"], "Add": ["x", "x"], "ReduceMax": ["x"], "ArgMax": ["x"], "TopK": ["x", "k"],
               "Sort": ["x"]}[op]
        return [A(op, ins, ["y"] + (["y2"] if op == "TopK" else []))], [x, numpy_helper.from_array(np.array([1.0] * rank, np.float32), "sc"),
                                     ints("k", [1])]
    if op == "Equal":
        return [A("Equal", ["x", "x2"], ["y"])], [x, strings(r, "x2")]
    if op == "SplitToSequence":
        nodes = [A("SplitToSequence", ["x"], ["s"], axis=r.randint(-rank, max(rank, 1)), keepdims=r.randint(0, 1)),
                 A(r.choice(["SequenceAt", "SequenceErase"]), ["s", "p"], ["s2"]),
                 A("ConcatFromSequence", ["s"], ["y"], axis=r.randint(-2, 2), new_axis=r.randint(0, 1))]
        return nodes, [x, ints("p", r.randint(-3, 3))]
    if op == "Reshape":
        return [A("Reshape", ["x", "s"], ["y"])], [x, ints("s", rints(r, r.randint(0, 3), -1, 4))]
    if op == "Loop":
        body = helper.make_graph(
            [A("Concat", ["acc_in", "x"], ["acc_out"], axis=0), A("Identity", ["c_in"], ["c_out"]),
             A("Identity", ["x"], ["scan"])], "body",
            [helper.make_tensor_value_info("i", TP.INT64, []), helper.make_tensor_value_info("c_in", TP.BOOL, []),
             helper.make_tensor_value_info("acc_in", TP.STRING, None)],
            [helper.make_tensor_value_info("c_out", TP.BOOL, []),
             helper.make_tensor_value_info("acc_out", TP.STRING, None),
             helper.make_tensor_value_info("scan", TP.STRING, None)])
        return [A("Loop", ["n", "", "x"], ["y", "y2"], body=body)], [x, ints("n", r.randint(0, 3))]
    raise ValueError(op)


OPS = ["StringNormalizer", "StringNormalizer", "CastFromString", "CastFromString", "CastToString", "CastLike",
       "TfIdfVectorizer", "TfIdfVectorizer", "Gather", "GatherND", "Concat", "Slice", "Pad", "Where", "Unique", "Tile",
       "Expand", "Transpose", "Split", "Compress", "ReverseSequence", "OneHot", "ScatterND", "ScatterElements",
       "Trilu", "DepthToSpace", "ConstantOfShape", "Resize", "Add", "ReduceMax", "ArgMax", "TopK", "Sort", "Equal",
       "SplitToSequence", "Reshape", "Loop"]


def make(r, i):
    op = r.choice(OPS)
    nodes, inits = node_for(r, op)
    # Half the time the string tensor is a graph input (the fuzz target then feeds random number words).
    inputs = []
    if r.random() < 0.3 and inits and inits[0].data_type == TP.STRING:
        x = inits.pop(0)
        inputs.append(helper.make_tensor_value_info(x.name, TP.STRING, list(x.dims)))
    outs = [helper.make_tensor_value_info(o, TP.UNDEFINED, None) for o in nodes[-1].output]
    g = helper.make_graph(nodes, "g%d" % i, inputs, outs, initializer=inits)
    # Split's num_outputs is opset 18; most ops here are defined from 11 or 13; 19+ is refused by tandem.
    opset = 18 if op == "Split" else r.choice([11, 13, 15, 17, 18, 18, 18, 19])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = r.choice([7, 8, 9, 10])
    return m


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    r = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 0)
    os.makedirs(out, exist_ok=True)
    for i in range(n):
        m = make(r, i)
        with open(os.path.join(out, "m%05d.onnx" % i), "wb") as f:
            f.write(m.SerializeToString())


main()
