#!/usr/bin/python3
"""ONNX test cases for the ops opset 19 added or changed, with ONNX Runtime's outputs as the expected ones.

Each case is a folder <name>/model.onnx + test_data_set_0/input_J.pb, output_J.pb (TensorProto, in graph
order), like ONNX's backend node cases; tests/onnx_import/opset19_cases_test.cc runs them all. Debian's onnx
1.12 has no opset-19 reference implementation, so the outputs come from ONNX Runtime 1.30 (its CPU provider,
optimisations off) through onnxruntime-node, which implements opset 19 (the spec's Changelog, "Version 19 of
the default ONNX operator set").

    ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix DIR onnxruntime-node@1.30.0
    /usr/bin/python3 tests/data/opset19/make_cases.py --ort-modules DIR/node_modules

Inputs come from a fixed seed, so a rerun writes the same files.
"""

import argparse
import json
import os
import shutil
import subprocess

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET, IR_VERSION = 19, 9
rng = np.random.default_rng(19)

F = TensorProto.FLOAT


def model(nodes, inputs, outputs, initializers=()):
    g = helper.make_graph(nodes, "case", inputs, outputs, list(initializers))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="tandem-opset19")
    m.ir_version = IR_VERSION
    return m


def vi(name, elem, shape=None):
    return helper.make_tensor_value_info(name, elem, shape)


def ints(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def floats(*shape):
    return rng.standard_normal(shape).astype(np.float32)


CASES = {}


def case(name, m, feeds, expected=None):
    """expected: the outputs by name where ONNX Runtime is wrong (the spec's own reference is then used)."""
    CASES[name] = (m, feeds, expected)


# Pad-19: mode "wrap" (the data as a ring along each padded axis), with pads larger than an axis, negative
# pads (which crop first) and `axes`.
case("pad_wrap_2d",
     model([helper.make_node("Pad", ["x", "pads"], ["y"], mode="wrap")], [vi("x", F, [3, 4])], [vi("y", F)],
           [ints("pads", [1, 2, 2, 3])]),
     {"x": floats(3, 4)})
case("pad_wrap_axes_crop",
     model([helper.make_node("Pad", ["x", "pads", "", "axes"], ["y"], mode="wrap")], [vi("x", F, [2, 3, 5])],
           [vi("y", F)], [ints("pads", [-1, 2, 3, 1]), ints("axes", [-1, 1])]),
     {"x": floats(2, 3, 5)})
# Pads wider than the axis go round the ring more than once. ONNX Runtime 1.30 gets this wrong (zeros, and
# rows out of place); ONNX's reference implementation is numpy.pad(mode="wrap"), which is used instead.
wide_x = floats(2, 3)
case("pad_wrap_wider_than_axis",
     model([helper.make_node("Pad", ["x", "pads"], ["y"], mode="wrap")], [vi("x", F, [2, 3])], [vi("y", F)],
           [ints("pads", [3, 7, 5, 4])]),
     {"x": wide_x}, expected={"y": np.pad(wide_x, ((3, 5), (7, 4)), mode="wrap")})
case("pad_wrap_int64",
     model([helper.make_node("Pad", ["x", "pads"], ["y"], mode="wrap")], [vi("x", TensorProto.INT64, [2, 3])],
           [vi("y", TensorProto.INT64)], [ints("pads", [0, 1, 1, 2])]),
     {"x": np.arange(6, dtype=np.int64).reshape(2, 3)})

# Resize-19: coordinate_transformation_mode half_pixel_symmetric, for each mode, upscaling and downscaling
# by scales whose output length is not whole (the case it differs from half_pixel), and by sizes.
for mode in ["nearest", "linear", "cubic"]:
    case(f"resize_half_pixel_symmetric_{mode}_scales",
         model([helper.make_node("Resize", ["x", "", "scales"], ["y"], mode=mode,
                                 coordinate_transformation_mode="half_pixel_symmetric")],
               [vi("x", F, [1, 2, 4, 5])], [vi("y", F)],
               [numpy_helper.from_array(np.array([1, 1, 1.7, 0.7], dtype=np.float32), "scales")]),
         {"x": floats(1, 2, 4, 5)})
case("resize_half_pixel_symmetric_linear_sizes",
     model([helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="linear",
                             coordinate_transformation_mode="half_pixel_symmetric")],
           [vi("x", F, [1, 1, 4, 6])], [vi("y", F)], [ints("sizes", [1, 1, 7, 4])]),
     {"x": floats(1, 1, 4, 6)})

# AveragePool-19: dilations, with pads, count_include_pad both ways, and ceil_mode.
for include in [0, 1]:
    case(f"averagepool_dilations_pads_include_{include}",
         model([helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[3, 2], dilations=[2, 3],
                                 strides=[1, 2], pads=[1, 0, 2, 1], count_include_pad=include)],
               [vi("x", F, [1, 2, 9, 8])], [vi("y", F)]),
         {"x": floats(1, 2, 9, 8)})
case("averagepool_dilations_ceil_1d",
     model([helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[3], dilations=[2], strides=[2],
                             ceil_mode=1)],
           [vi("x", F, [1, 3, 12])], [vi("y", F)]),
     {"x": floats(1, 3, 12)})

# Equal-19: strings, broadcast.
case("equal_string_broadcast",
     model([helper.make_node("Equal", ["a", "b"], ["c"])],
           [vi("a", TensorProto.STRING, [2, 3]), vi("b", TensorProto.STRING, [3])], [vi("c", TensorProto.BOOL)]),
     {"a": np.array([["one", "two", ""], ["x", "two", "three"]], dtype=object),
      "b": np.array(["one", "two", "three"], dtype=object)})

# Cast-19, CastLike-19, QuantizeLinear-19 and DequantizeLinear-19 at their opset-19 versions. (Their
# `saturate` reads only for float8 targets; ONNX Runtime refuses it on any other, so the cases leave it out
# and opset19_cases_test.cc checks that tandem ignores it.)
case("cast_castlike",
     model([helper.make_node("Cast", ["x"], ["i"], to=TensorProto.INT32),
            helper.make_node("CastLike", ["x", "like"], ["d"])],
           [vi("x", F, [5]), vi("like", TensorProto.DOUBLE, [1])],
           [vi("i", TensorProto.INT32), vi("d", TensorProto.DOUBLE)]),
     {"x": np.array([-2.7, -0.5, 0.0, 3.9, 100.25], dtype=np.float32), "like": np.zeros(1)})
case("quantize_dequantize",
     model([helper.make_node("QuantizeLinear", ["x", "scale", "zero"], ["q"]),
            helper.make_node("DequantizeLinear", ["q", "scale", "zero"], ["y"])],
           [vi("x", F, [2, 6])], [vi("q", TensorProto.UINT8), vi("y", F)],
           [numpy_helper.from_array(np.array(0.05, dtype=np.float32), "scale"),
            numpy_helper.from_array(np.array(128, dtype=np.uint8), "zero")]),
     {"x": (floats(2, 6) * 4).astype(np.float32)})

# The ops whose opset-19 change is only their float8 types, in one graph: Shape, Size, Reshape, Identity,
# Constant, If, Loop and Scan, around an LSTM (unchanged since 14).
H = 4
lstm_w = numpy_helper.from_array(floats(1, 4 * H, 3) * 0.5, "w")
lstm_r = numpy_helper.from_array(floats(1, 4 * H, H) * 0.5, "r")
then_g = helper.make_graph([helper.make_node("Identity", ["yh"], ["t_out"])], "then", [], [vi("t_out", F)])
else_g = helper.make_graph([helper.make_node("Neg", ["yh"], ["e_out"])], "else", [], [vi("e_out", F)])
loop_body = helper.make_graph(
    [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
     helper.make_node("Add", ["acc_in", "branch"], ["acc_out"])],
    "loop_body", [vi("i", TensorProto.INT64, []), vi("cond_in", TensorProto.BOOL, []), vi("acc_in", F)],
    [vi("cond_out", TensorProto.BOOL, []), vi("acc_out", F)])
scan_body = helper.make_graph(
    [helper.make_node("Add", ["s_in", "row"], ["s_out"]), helper.make_node("Identity", ["s_out"], ["s_each"])],
    "scan_body", [vi("s_in", F, [H]), vi("row", F, [H])], [vi("s_out", F, [H]), vi("s_each", F, [H])])
case("control_flow_and_shapes",
     model([helper.make_node("LSTM", ["x", "w", "r"], ["y", "yh"], hidden_size=H),
            helper.make_node("Shape", ["y"], ["shape"]),
            helper.make_node("Size", ["y"], ["size"]),
            helper.make_node("Constant", [], ["flat"], value=numpy_helper.from_array(np.array([-1, H], dtype=np.int64))),
            helper.make_node("Reshape", ["y", "flat"], ["rows"]),
            helper.make_node("Constant", [], ["zero"], value=numpy_helper.from_array(np.array(0.0, dtype=np.float32))),
            helper.make_node("ReduceSum", ["x"], ["xsum"], keepdims=0),
            helper.make_node("Greater", ["xsum", "zero"], ["positive"]),
            helper.make_node("If", ["positive"], ["branch"], then_branch=then_g, else_branch=else_g),
            helper.make_node("Constant", [], ["trips"], value=numpy_helper.from_array(np.array(3, dtype=np.int64))),
            helper.make_node("Constant", [], ["go"], value=numpy_helper.from_array(np.array(True))),
            helper.make_node("Loop", ["trips", "go", "yh"], ["looped"], body=loop_body),
            helper.make_node("Constant", [], ["s0"], value=numpy_helper.from_array(np.zeros(H, dtype=np.float32))),
            helper.make_node("Scan", ["s0", "rows"], ["s_final", "s_all"], body=scan_body, num_scan_inputs=1)],
           [vi("x", F, [5, 1, 3])],
           [vi("shape", TensorProto.INT64), vi("size", TensorProto.INT64), vi("looped", F), vi("s_final", F),
            vi("s_all", F)],
           [lstm_w, lstm_r]),
     {"x": floats(5, 1, 3)})


def to_json(a):
    if a.dtype == object:
        return {"type": "string", "dims": list(a.shape), "data": [str(v) for v in a.ravel()]}
    kinds = {np.float32: "float32", np.float64: "float64", np.int64: "int64", np.int32: "int32",
             np.uint8: "uint8", np.int8: "int8", np.bool_: "bool"}
    t = kinds[a.dtype.type]
    data = a.ravel().tolist()
    if t in ("int64",):
        data = [str(v) for v in data]
    if t == "bool":
        data = [int(v) for v in data]
    return {"type": t, "dims": list(a.shape), "data": data}


def from_json(t):
    dtypes = {"float32": np.float32, "float64": np.float64, "int64": np.int64, "int32": np.int32,
              "uint8": np.uint8, "int8": np.int8, "bool": np.bool_}
    if t["type"] == "string":
        return np.array(t["data"], dtype=object).reshape(t["dims"])
    data = [int(v) for v in t["data"]] if t["type"] == "int64" else t["data"]
    return np.array(data, dtype=dtypes[t["type"]]).reshape(t["dims"])


def write_tensor(path, name, a):
    if a.dtype == object:
        t = helper.make_tensor(name, TensorProto.STRING, a.shape, [s.encode() for s in a.ravel()])
    else:
        t = numpy_helper.from_array(a, name)
    with open(path, "wb") as f:
        f.write(t.SerializeToString())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ort-modules", required=True, help="a node_modules folder holding onnxruntime-node")
    args = ap.parse_args()
    env = dict(os.environ, NODE_PATH=os.path.abspath(args.ort_modules))
    for name, (m, feeds, expected) in CASES.items():
        d = os.path.join(HERE, name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(os.path.join(d, "test_data_set_0"))
        onnx.save(m, os.path.join(d, "model.onnx"))
        graph_inputs = [i.name for i in m.graph.input]
        with open(os.path.join(d, "ort_inputs.json"), "w") as f:
            json.dump({k: to_json(feeds[k]) for k in graph_inputs}, f)
        subprocess.run(["node", os.path.join(HERE, "run_ort.js"), d], check=True, env=env)
        with open(os.path.join(d, "ort_outputs.json")) as f:
            outs = json.load(f)
        for j, k in enumerate(graph_inputs):
            write_tensor(os.path.join(d, "test_data_set_0", f"input_{j}.pb"), k, feeds[k])
        for j, o in enumerate(m.graph.output):
            want = expected[o.name] if expected and o.name in expected else from_json(outs[o.name])
            write_tensor(os.path.join(d, "test_data_set_0", f"output_{j}.pb"), o.name, want)
        os.remove(os.path.join(d, "ort_inputs.json"))
        os.remove(os.path.join(d, "ort_outputs.json"))
        print("wrote", name)


if __name__ == "__main__":
    main()
