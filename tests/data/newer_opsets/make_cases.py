#!/usr/bin/python3
"""ONNX test cases for the ops opsets 19 to 26 added or changed (those newer than Debian's onnx 1.12 knows),
with ONNX Runtime's outputs as the expected ones.

Each case is a folder opset<N>_<name>/model.onnx + test_data_set_0/input_J.pb, output_J.pb (TensorProto, in
graph order), like ONNX's backend node cases; tests/conformance/newer_opset_cases_test.cc runs them all.
Debian's onnx 1.12 has no reference implementation of these opsets, so the outputs come from ONNX Runtime
1.30 (its CPU provider, optimisations off) through onnxruntime-node, which implements them (the spec's
Changelog, "Version 19 (20, 21) of the default ONNX operator set"), except where a case says ONNX Runtime is
wrong and gives the spec's own reference instead.

    ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix DIR onnxruntime-node@1.30.0
    /usr/bin/python3 tests/data/newer_opsets/make_cases.py --ort-modules DIR/node_modules

Inputs come from a fixed seed, so a rerun writes the same files.
"""

import argparse
import json
import math
import os
import shutil
import subprocess

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
IR_VERSION = 9
rng = np.random.default_rng(19)

F = TensorProto.FLOAT


def model(nodes, inputs, outputs, initializers=(), opset=19):
    g = helper.make_graph(nodes, "case", inputs, outputs, list(initializers))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="tandem-newer-opsets")
    m.ir_version = IR_VERSION
    return m


def vi(name, elem, shape=None):
    return helper.make_tensor_value_info(name, elem, shape)


def ints(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def floats(*shape):
    return rng.standard_normal(shape).astype(np.float32)


class BFloat16Array:
    """float32 values to be stored as bfloat16 (numpy has no bfloat16), rounded to nearest even."""

    def __init__(self, values):
        self.values = np.asarray(values, dtype=np.float32)

    def bits(self):
        u = self.values.view(np.uint32).astype(np.uint64)
        return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)

    def widened(self):
        return (self.bits().astype(np.uint32) << 16).view(np.float32)


CASES = {}


def case(name, m, feeds, expected=None):
    """expected: the outputs by name where ONNX Runtime is wrong (the spec's own reference is then used)."""
    CASES[f"opset{m.opset_import[0].version}_{name}"] = (m, feeds, expected)


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
# ... and by sizes with keep_aspect_ratio_policy: the one kept scale times the input length (4.5 here) is
# the spec's output_width, which the rounded size (5) differs from. (Inputs from their own generator, so the
# cases after keep theirs.)
case("resize_half_pixel_symmetric_linear_sizes_not_larger",
     model([helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="linear", axes=[2, 3],
                             coordinate_transformation_mode="half_pixel_symmetric",
                             keep_aspect_ratio_policy="not_larger")],
           [vi("x", F, [1, 2, 4, 6])], [vi("y", F)], [ints("sizes", [3, 5])]),
     {"x": np.random.default_rng(1901).standard_normal((1, 2, 4, 6)).astype(np.float32)})

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


# ---------------------------------------------------------------------------------------------------------
# Opset 20


def model20(nodes, inputs, outputs, initializers=()):
    return model(nodes, inputs, outputs, initializers, opset=20)


case("gelu_exact_and_tanh",
     model20([helper.make_node("Gelu", ["x"], ["exact"]), helper.make_node("Gelu", ["x"], ["tanh"], approximate="tanh")],
             [vi("x", F, [3, 7])], [vi("exact", F), vi("tanh", F)]),
     {"x": (floats(3, 7) * 3).astype(np.float32)})
# ONNX Runtime has no double Gelu (its function body's Erf takes no double): the spec's formula instead.
gelu_x = np.linspace(-6, 6, 10)
case("gelu_double",
     model20([helper.make_node("Gelu", ["x"], ["y"])], [vi("x", TensorProto.DOUBLE, [10])], [vi("y", TensorProto.DOUBLE)]),
     {"x": gelu_x}, expected={"y": np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in gelu_x])})

# DFT-20: the axis is an input (default -2), dft_length an input.
case("dft_axis_input",
     model20([helper.make_node("DFT", ["x", "", "axis"], ["y"])], [vi("x", F, [2, 5, 6, 1])], [vi("y", F)],
             [numpy_helper.from_array(np.array(1, dtype=np.int64), "axis")]),
     {"x": floats(2, 5, 6, 1)})
case("dft_default_axis_onesided_length",
     model20([helper.make_node("DFT", ["x", "len"], ["y"], onesided=1)], [vi("x", F, [2, 5, 6, 1])], [vi("y", F)],
             [numpy_helper.from_array(np.array(8, dtype=np.int64), "len")]),
     {"x": floats(2, 5, 6, 1)})
case("dft_complex_length",
     model20([helper.make_node("DFT", ["x", "len"], ["y"])], [vi("x", F, [2, 5, 6, 2])], [vi("y", F)],
             [numpy_helper.from_array(np.array(4, dtype=np.int64), "len")]),
     {"x": floats(2, 5, 6, 2)})
case("dft_inverse_negative_axis",
     model20([helper.make_node("DFT", ["x", "", "axis"], ["y"], inverse=1)], [vi("x", F, [3, 4, 2])], [vi("y", F)],
             [numpy_helper.from_array(np.array(-3, dtype=np.int64), "axis")]),
     {"x": floats(3, 4, 2)})

# GridSample-20: modes linear, nearest, cubic (4-D).
for mode in ["linear", "nearest", "cubic"]:
    case(f"gridsample_{mode}",
         model20([helper.make_node("GridSample", ["x", "grid"], ["y"], mode=mode, padding_mode="border")],
                 [vi("x", F, [1, 2, 4, 5]), vi("grid", F, [1, 3, 2, 2])], [vi("y", F)]),
         {"x": floats(1, 2, 4, 5), "grid": (rng.uniform(-1.2, 1.2, (1, 3, 2, 2))).astype(np.float32)})

# AffineGrid-20: 2-D and 3-D, both align_corners.
for ac in [0, 1]:
    case(f"affinegrid_2d_align_{ac}",
         model20([helper.make_node("AffineGrid", ["theta", "size"], ["grid"], align_corners=ac)],
                 [vi("theta", F, [2, 2, 3])], [vi("grid", F)], [ints("size", [2, 3, 4, 5])]),
         {"theta": floats(2, 2, 3)})
    case(f"affinegrid_3d_align_{ac}",
         model20([helper.make_node("AffineGrid", ["theta", "size"], ["grid"], align_corners=ac)],
                 [vi("theta", F, [1, 3, 4])], [vi("grid", F)], [ints("size", [1, 1, 2, 3, 4])]),
         {"theta": floats(1, 3, 4)})
case("affinegrid_then_gridsample",
     model20([helper.make_node("AffineGrid", ["theta", "size"], ["grid"]),
              helper.make_node("GridSample", ["x", "grid"], ["y"])],
             [vi("theta", F, [1, 2, 3]), vi("x", F, [1, 1, 5, 6])], [vi("y", F)], [ints("size", [1, 1, 4, 4])]),
     {"theta": np.array([[[0.9, -0.2, 0.1], [0.3, 0.8, -0.05]]], dtype=np.float32), "x": floats(1, 1, 5, 6)})

# ReduceMax-20 and ReduceMin-20 over bools (any, all), and an empty reduction.
case("reduce_max_min_bool",
     model20([helper.make_node("ReduceMax", ["b", "axes"], ["any"], keepdims=0),
              helper.make_node("ReduceMin", ["b", "axes"], ["all"], keepdims=1)],
             [vi("b", TensorProto.BOOL, [3, 4])], [vi("any", TensorProto.BOOL), vi("all", TensorProto.BOOL)],
             [ints("axes", [1])]),
     {"b": np.array([[0, 0, 0, 0], [1, 0, 1, 1], [1, 1, 1, 1]], dtype=np.bool_)})

# ConstantOfShape-20, IsInf-20, IsNaN-20: their change is only float8.
case("constant_of_shape_isinf_isnan",
     model20([helper.make_node("ConstantOfShape", ["shape"], ["c"],
                               value=numpy_helper.from_array(np.array([2.5], dtype=np.float32))),
              helper.make_node("IsInf", ["x"], ["inf"], detect_negative=0),
              helper.make_node("IsNaN", ["x"], ["nan"])],
             [vi("x", F, [5])], [vi("c", F), vi("inf", TensorProto.BOOL), vi("nan", TensorProto.BOOL)],
             [ints("shape", [2, 3])]),
     {"x": np.array([1.0, np.inf, -np.inf, np.nan, 0.0], dtype=np.float32)})

# StringConcat and StringSplit.
case("string_concat_broadcast",
     model20([helper.make_node("StringConcat", ["a", "b"], ["c"])],
             [vi("a", TensorProto.STRING, [2, 1]), vi("b", TensorProto.STRING, [3])], [vi("c", TensorProto.STRING)]),
     {"a": np.array([["x"], ["éé"]], dtype=object), "b": np.array(["1", "", "-two"], dtype=object)})
# StringSplit's expected outputs come from ONNX's reference implementation (numpy.char.split, that is
# Python's str.split), which ONNX Runtime 1.30 departs from in three places: an empty string with a
# delimiter (Python: one empty part; ONNX Runtime: none), whitespace other than ' ' (Python splits at tabs
# and newlines too, and at Unicode's spaces), and maxsplit in whitespace mode (Python keeps the rest's
# trailing space).
def split_reference(x, delimiter, maxsplit):
    parts = [s.split(delimiter, -1 if maxsplit is None else maxsplit) for s in x.ravel()]
    widest = max([len(p) for p in parts], default=0)
    y = np.array([p + [""] * (widest - len(p)) for p in parts], dtype=object).reshape(*x.shape, widest)
    z = np.array([len(p) for p in parts], dtype=np.int64).reshape(x.shape)
    return {"y": y, "z": z}


split_x = np.array([["a,b,,c", ",lead", ""], ["trail,", "no delimiter", "x,y,z,w,v"]], dtype=object)
case("string_split_delimiter",
     model20([helper.make_node("StringSplit", ["x"], ["y", "z"], delimiter=",")],
             [vi("x", TensorProto.STRING, [2, 3])], [vi("y", TensorProto.STRING), vi("z", TensorProto.INT64)]),
     {"x": split_x}, expected=split_reference(split_x, ",", None))
case("string_split_delimiter_maxsplit",
     model20([helper.make_node("StringSplit", ["x"], ["y", "z"], delimiter=",", maxsplit=2)],
             [vi("x", TensorProto.STRING, [2, 3])], [vi("y", TensorProto.STRING), vi("z", TensorProto.INT64)]),
     {"x": split_x}, expected=split_reference(split_x, ",", 2))
space_x = np.array(["  two  words ", "one", "", "   ", "a\tb\nc  d", "\u3000wide\u00a0spaces\u2003é\x1f"],
                   dtype=object)
case("string_split_whitespace",
     model20([helper.make_node("StringSplit", ["x"], ["y", "z"])],
             [vi("x", TensorProto.STRING, [6])], [vi("y", TensorProto.STRING), vi("z", TensorProto.INT64)]),
     {"x": space_x}, expected=split_reference(space_x, None, None))
case("string_split_whitespace_maxsplit",
     model20([helper.make_node("StringSplit", ["x"], ["y", "z"], maxsplit=1)],
             [vi("x", TensorProto.STRING, [6])], [vi("y", TensorProto.STRING), vi("z", TensorProto.INT64)]),
     {"x": space_x}, expected=split_reference(space_x, None, 1))
# Where ONNX Runtime and the reference agree (no empty string, spaces only), its outputs.
case("string_split_agreed_with_onnxruntime",
     model20([helper.make_node("StringSplit", ["x"], ["y", "z"])],
             [vi("x", TensorProto.STRING, [3])], [vi("y", TensorProto.STRING), vi("z", TensorProto.INT64)]),
     {"x": np.array([" a b  c ", "de", "f  g"], dtype=object)})


# QuantizeLinear-19 and DequantizeLinear-19 on float16 (ONNX Runtime) and bfloat16 (which onnxruntime-node
# cannot pass: the reference's formula, in float32, each result rounded once).
H16 = TensorProto.FLOAT16
case("quantize_dequantize_float16",
     model([helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
            helper.make_node("QuantizeLinear", ["x", "s_axis", "z_axis"], ["q_axis"], axis=1),
            helper.make_node("DequantizeLinear", ["q_axis", "s_axis", "z_axis"], ["y_axis"], axis=1)],
           [vi("x", H16, [2, 5])], [vi("q", TensorProto.UINT8), vi("q_axis", TensorProto.INT8), vi("y_axis", H16)],
           [numpy_helper.from_array(np.array(0.07, dtype=np.float16), "s"),
            numpy_helper.from_array(np.array(120, dtype=np.uint8), "z"),
            numpy_helper.from_array(np.array([0.05, 0.1, 0.02, 0.3, 0.011], dtype=np.float16), "s_axis"),
            numpy_helper.from_array(np.array([-3, 0, 7, 1, -100], dtype=np.int8), "z_axis")]),
     {"x": (floats(2, 5) * 3).astype(np.float16)})
bf_x = BFloat16Array(floats(2, 4) * 3)
bf_scale = BFloat16Array(np.array([0.0625, 0.3, 0.01, 1.7], dtype=np.float32))
bf_zero = np.array([5, -2, 0, 100], dtype=np.int8)
bf_q = np.clip(np.rint(bf_x.widened() / bf_scale.widened()) + bf_zero, -128, 127).astype(np.int8)
case("quantize_dequantize_bfloat16",
     model([helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], axis=-1),
            helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"], axis=-1)],
           [vi("x", TensorProto.BFLOAT16, [2, 4])], [vi("q", TensorProto.INT8), vi("y", TensorProto.BFLOAT16)],
           [TensorProto(name="s", data_type=TensorProto.BFLOAT16, dims=[4], raw_data=bf_scale.bits().tobytes()),
            numpy_helper.from_array(bf_zero, "z")]),
     {"x": bf_x},
     expected={"q": bf_q, "y": BFloat16Array((bf_q.astype(np.float32) - bf_zero) * bf_scale.widened())})


# ---------------------------------------------------------------------------------------------------------
# GroupNormalization (18: scale and bias per group; 21: per channel), and opset 21's type-only changes.

def group_norm_reference(x, scale, bias, groups, epsilon, per_channel):
    n, c = x.shape[:2]
    g = x.reshape(n, groups, -1).astype(np.float64)
    norm = ((g - g.mean(axis=2, keepdims=True)) / np.sqrt(g.var(axis=2, keepdims=True) + epsilon)).reshape(x.shape)
    shape = [1, c] + [1] * (x.ndim - 2)
    s = scale if per_channel else np.repeat(scale, c // groups)
    b = bias if per_channel else np.repeat(bias, c // groups)
    return (norm * s.reshape(shape) + b.reshape(shape)).astype(x.dtype)


gn_x = floats(2, 6, 3, 4)
gn_scale21, gn_bias21 = floats(6), floats(6)
case("group_normalization_per_channel",
     model([helper.make_node("GroupNormalization", ["x", "s", "b"], ["y"], num_groups=3, epsilon=1e-3)],
           [vi("x", F, [2, 6, 3, 4]), vi("s", F, [6]), vi("b", F, [6])], [vi("y", F)], opset=21),
     {"x": gn_x, "s": gn_scale21, "b": gn_bias21})
gn_scale18, gn_bias18 = floats(3), floats(3)
case("group_normalization_per_group",
     model([helper.make_node("GroupNormalization", ["x", "s", "b"], ["y"], num_groups=3)],
           [vi("x", F, [2, 6, 3, 4]), vi("s", F, [3]), vi("b", F, [3])], [vi("y", F)], opset=18),
     {"x": gn_x, "s": gn_scale18, "b": gn_bias18},
     expected={"y": group_norm_reference(gn_x, gn_scale18, gn_bias18, 3, 1e-5, False)})
case("flatten_squeeze_transpose_unsqueeze",
     model([helper.make_node("Unsqueeze", ["x", "ax0"], ["u"]),
            helper.make_node("Transpose", ["u"], ["t"], perm=[0, 2, 1]),
            helper.make_node("Squeeze", ["t", "ax0"], ["s"]),
            helper.make_node("Flatten", ["s"], ["f"], axis=1),
            helper.make_node("Constant", [], ["shape"], value=numpy_helper.from_array(np.array([4, 3], dtype=np.int64))),
            helper.make_node("Reshape", ["f", "shape"], ["r"]),
            helper.make_node("Cast", ["r"], ["i"], to=TensorProto.INT32),
            helper.make_node("Pad", ["i", "pads"], ["p"], mode="wrap")],
           [vi("x", F, [3, 4])], [vi("p", TensorProto.INT32)],
           [ints("ax0", [0]), ints("pads", [1, 0, 0, 2])], opset=21),
     {"x": (floats(3, 4) * 10).astype(np.float32)})


# QuantizeLinear-21 and DequantizeLinear-21: blocked quantization (block_size along axis; the last block
# may be short), 16-bit types, output_dtype; QLinearMatMul-21 with float16 scales.
def model21(nodes, inputs, outputs, initializers=()):
    return model(nodes, inputs, outputs, initializers, opset=21)


case("quantize_dequantize_blocked",
     model21([helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], axis=1, block_size=3),
              helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"], axis=1, block_size=3)],
             [vi("x", F, [2, 6])], [vi("q", TensorProto.INT8), vi("y", F)],
             [numpy_helper.from_array(np.array([[0.05, 0.2], [0.011, 0.5]], dtype=np.float32), "s"),
              numpy_helper.from_array(np.array([[1, -4], [0, 9]], dtype=np.int8), "z")]),
     {"x": (floats(2, 6) * 3).astype(np.float32)})
case("quantize_dequantize_blocked_short_last_block",
     model21([helper.make_node("QuantizeLinear", ["x", "s"], ["q"], axis=0, block_size=2),
              helper.make_node("DequantizeLinear", ["q", "s"], ["y"], axis=0, block_size=2)],
             [vi("x", F, [5, 3])], [vi("q", TensorProto.UINT8), vi("y", F)],
             [numpy_helper.from_array(np.array([[0.02, 0.03, 0.05], [0.01, 0.1, 0.2], [0.04, 0.04, 0.04]],
                                               dtype=np.float32), "s")]),
     {"x": np.abs(floats(5, 3) * 3).astype(np.float32)})
case("quantize_dequantize_16bit",
     model21([helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
              helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"]),
              helper.make_node("QuantizeLinear", ["x", "s_one"], ["q_u16"], output_dtype=TensorProto.UINT16)],
             [vi("x", F, [2, 4])], [vi("q", TensorProto.INT16), vi("y", F), vi("q_u16", TensorProto.UINT16)],
             [numpy_helper.from_array(np.array([0.001, 0.0001, 0.01, 0.5], dtype=np.float32), "s"),
              numpy_helper.from_array(np.array([-3, 1000, 0, -32000], dtype=np.int16), "z"),
              numpy_helper.from_array(np.array(0.0002, dtype=np.float32), "s_one")]),
     {"x": (floats(2, 4) * 5).astype(np.float32)})
case("qlinear_matmul_float16_scales",
     model21([helper.make_node("QLinearMatMul", ["a", "as", "az", "b", "bs", "bz", "ys", "yz"], ["y"])],
             [vi("a", TensorProto.UINT8, [2, 3]), vi("b", TensorProto.INT8, [3, 4])], [vi("y", TensorProto.UINT8)],
             [numpy_helper.from_array(np.array(0.05, dtype=np.float16), "as"),
              numpy_helper.from_array(np.array(10, dtype=np.uint8), "az"),
              numpy_helper.from_array(np.array(0.02, dtype=np.float16), "bs"),
              numpy_helper.from_array(np.array(-2, dtype=np.int8), "bz"),
              numpy_helper.from_array(np.array(0.1, dtype=np.float16), "ys"),
              numpy_helper.from_array(np.array(128, dtype=np.uint8), "yz")]),
     {"a": rng.integers(0, 255, (2, 3)).astype(np.uint8), "b": rng.integers(-128, 127, (3, 4)).astype(np.int8)})


# ---------------------------------------------------------------------------------------------------------
# GridSample-20 over three spatial axes (5-D X), linear and nearest, with each padding mode; and over one
# (3-D X), whose expected output is the spec's formula (ONNX Runtime takes 4-D and 5-D X only).
for mode, padding, ac in [("linear", "zeros", 0), ("linear", "border", 1), ("nearest", "reflection", 0),
                          ("linear", "reflection", 1)]:
    case(f"gridsample_5d_{mode}_{padding}_align_{ac}",
         model20([helper.make_node("GridSample", ["x", "grid"], ["y"], mode=mode, padding_mode=padding,
                                   align_corners=ac)],
                 [vi("x", F, [1, 2, 3, 4, 5]), vi("grid", F, [1, 2, 3, 2, 3])], [vi("y", F)]),
         {"x": floats(1, 2, 3, 4, 5), "grid": rng.uniform(-1.3, 1.3, (1, 2, 3, 2, 3)).astype(np.float32)})
gs1_x = floats(2, 3, 6)
gs1_grid = np.array([[[-1.2], [-0.5], [0.1], [0.77], [1.0]], [[0.3], [-0.99], [1.4], [0.0], [-0.25]]], dtype=np.float32)


def grid_sample_1d_linear_zeros(x, grid):  # align_corners 0: -1 and 1 are the outer edges
    n, c, w = x.shape
    out = np.zeros((n, c, grid.shape[1]), dtype=np.float64)
    for b in range(n):
        for i, (g,) in enumerate(grid[b].astype(np.float64)):
            v = ((g + 1) * w - 1) / 2
            lo = np.floor(v)
            for pos, weight in ((lo, 1 - (v - lo)), (lo + 1, v - lo)):
                if 0 <= pos <= w - 1:
                    out[b, :, i] += weight * x[b, :, int(pos)]
    return out.astype(np.float32)


case("gridsample_1d_linear",
     model20([helper.make_node("GridSample", ["x", "grid"], ["y"])],
             [vi("x", F, [2, 3, 6]), vi("grid", F, [2, 5, 1])], [vi("y", F)]),
     {"x": gs1_x, "grid": gs1_grid}, expected={"y": grid_sample_1d_linear_zeros(gs1_x, gs1_grid)})


# ---------------------------------------------------------------------------------------------------------
# Opsets 22 to 25 (ONNX 1.17 to 1.20), with a generator of their own so the cases above keep their inputs.
rng22 = np.random.default_rng(22)


def floats22(*shape):
    return rng22.standard_normal(shape).astype(np.float32)


def model_at(opset, nodes, inputs, outputs, initializers=()):
    return model(nodes, inputs, outputs, initializers, opset=opset)


# 22 only added bfloat16 (to 48 ops): float32 models of the recurrent, convolution and pooling ops run as
# before, and bfloat16 runs where tandem has the kernels. ONNX Runtime cannot take bfloat16 through
# onnxruntime-node, so those expected outputs are the spec's formulas in float32 rounded once to bfloat16.
H22 = 5
case("lstm_bidirectional",
     model_at(22, [helper.make_node("LSTM", ["x", "w", "r", "b"], ["y", "yh", "yc"], hidden_size=H22,
                                    direction="bidirectional")],
              [vi("x", F, [4, 2, 3])], [vi("y", F), vi("yh", F), vi("yc", F)],
              [numpy_helper.from_array(floats22(2, 4 * H22, 3) * 0.5, "w"),
               numpy_helper.from_array(floats22(2, 4 * H22, H22) * 0.5, "r"),
               numpy_helper.from_array(floats22(2, 8 * H22) * 0.2, "b")]),
     {"x": floats22(4, 2, 3)})
case("gru_rnn",
     model_at(22, [helper.make_node("GRU", ["x", "gw", "gr"], ["gy"], hidden_size=4, linear_before_reset=1),
                   helper.make_node("RNN", ["x", "rw", "rr"], ["ry"], hidden_size=3, direction="reverse")],
              [vi("x", F, [5, 1, 3])], [vi("gy", F), vi("ry", F)],
              [numpy_helper.from_array(floats22(1, 12, 3) * 0.5, "gw"),
               numpy_helper.from_array(floats22(1, 12, 4) * 0.5, "gr"),
               numpy_helper.from_array(floats22(1, 3, 3) * 0.5, "rw"),
               numpy_helper.from_array(floats22(1, 3, 3) * 0.5, "rr")]),
     {"x": floats22(5, 1, 3)})
case("conv_pool_round",
     model_at(22, [helper.make_node("Conv", ["x", "cw"], ["c"], pads=[1, 1, 1, 1]),
                   helper.make_node("AveragePool", ["c"], ["a"], kernel_shape=[2, 2], strides=[2, 2]),
                   helper.make_node("MaxPool", ["c"], ["m"], kernel_shape=[3, 3]),
                   helper.make_node("GlobalMaxPool", ["c"], ["g"]),
                   helper.make_node("Round", ["a"], ["ra"])],
              [vi("x", F, [1, 2, 5, 6])], [vi("a", F), vi("m", F), vi("g", F), vi("ra", F)],
              [numpy_helper.from_array(floats22(3, 2, 3, 3), "cw")]),
     {"x": floats22(1, 2, 5, 6) * 2})
bf22_x = BFloat16Array(floats22(2, 5) * 2)
bf22_w = bf22_x.widened()
case("elementwise_bfloat16",
     model_at(22, [helper.make_node("Elu", ["x"], ["elu"], alpha=0.7),
                   helper.make_node("Sin", ["x"], ["sin"]),
                   helper.make_node("Softsign", ["x"], ["softsign"]),
                   helper.make_node("HardSigmoid", ["x"], ["hard_sigmoid"], alpha=0.3, beta=0.4),
                   helper.make_node("ThresholdedRelu", ["x"], ["thresholded"], alpha=0.5)],
              [vi("x", TensorProto.BFLOAT16, [2, 5])],
              [vi(n, TensorProto.BFLOAT16) for n in ("elu", "sin", "softsign", "hard_sigmoid", "thresholded")]),
     {"x": bf22_x},
     expected={"elu": BFloat16Array(np.where(bf22_w > 0, bf22_w, np.float32(0.7) * np.expm1(bf22_w))),
               "sin": BFloat16Array(np.sin(bf22_w)),
               "softsign": BFloat16Array(bf22_w / (1 + np.abs(bf22_w))),
               "hard_sigmoid": BFloat16Array(np.clip(np.float32(0.3) * bf22_w + np.float32(0.4), 0, 1)),
               "thresholded": BFloat16Array(np.where(bf22_w > 0.5, bf22_w, 0).astype(np.float32))})

# QuantizeLinear-23: y_scale's type is its own; `precision` names the division's type (both operands
# converted to it, the quotient rounded to it: ONNX's reference). ONNX Runtime 1.30 fails on a scale of
# another type than x's and ignores `precision`, so the expected outputs are the reference's formula.
q23_x = np.array([1.0, 2.6, -3.3, 100.7, 0.33, -0.5, 7.77, 1000.1, 2049.3, -1234.56], dtype=np.float32)
q23_zp = np.array(-7, dtype=np.int16)


def quantize_reference(quotient, zero_point, lo, hi, dtype):
    return np.clip(np.rint(quotient).astype(np.int64) + np.asarray(zero_point, dtype=np.int64), lo, hi).astype(dtype)


case("quantize_precision_float16",
     model_at(23, [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"], precision=TensorProto.FLOAT16),
                   helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y_default"])],
              [vi("x", F, [10])], [vi("y", TensorProto.INT16), vi("y_default", TensorProto.INT16)],
              [numpy_helper.from_array(np.array(0.3, dtype=np.float32), "s"),
               numpy_helper.from_array(q23_zp, "z")]),
     {"x": q23_x},
     expected={"y": quantize_reference(q23_x.astype(np.float16) / np.float16(0.3), q23_zp, -32768, 32767, np.int16),
               "y_default": quantize_reference(q23_x / np.float32(0.3), q23_zp, -32768, 32767, np.int16)})
q23_x16 = (floats22(2, 3) * 40).astype(np.float16)
q23_s16 = np.array([0.7, 0.05, 1.3], dtype=np.float16)
case("quantize_scale_type_of_its_own",
     model_at(23, [helper.make_node("QuantizeLinear", ["x16", "s32"], ["from_half"]),
                   helper.make_node("QuantizeLinear", ["x32", "s16", "z8"], ["to_int8"], axis=1)],
              [vi("x16", TensorProto.FLOAT16, [2, 3]), vi("x32", F, [2, 3])],
              [vi("from_half", TensorProto.UINT8), vi("to_int8", TensorProto.INT8)],
              [numpy_helper.from_array(np.array(0.25, dtype=np.float32), "s32"),
               numpy_helper.from_array(q23_s16, "s16"),
               numpy_helper.from_array(np.array([3, -2, 0], dtype=np.int8), "z8")]),
     {"x16": q23_x16, "x32": q23_x16.astype(np.float32)},
     expected={"from_half": quantize_reference(q23_x16.astype(np.float32) / np.float32(0.25), 0, 0, 255, np.uint8),
               "to_int8": quantize_reference(q23_x16.astype(np.float32) / q23_s16.astype(np.float32),
                                             np.array([3, -2, 0]), -128, 127, np.int8)})
dq23_x = rng22.integers(-128, 127, (3, 4)).astype(np.int8)
dq23_s = np.array([0.013, 0.5, 2.1], dtype=np.float32)
dq23_z = np.array([1, -3, 0], dtype=np.int8)
case("dequantize_output_dtype",
     model_at(23, [helper.make_node("DequantizeLinear", ["x", "s", "z"], ["y"], axis=0,
                                    output_dtype=TensorProto.FLOAT16)],
              [vi("x", TensorProto.INT8, [3, 4])], [vi("y", TensorProto.FLOAT16)],
              [numpy_helper.from_array(dq23_s, "s"), numpy_helper.from_array(dq23_z, "z")]),
     {"x": dq23_x},
     expected={"y": ((dq23_x.astype(np.float32) - dq23_z[:, None]) * dq23_s[:, None]).astype(np.float16)})
# The ops 23 changed only by float4e2m1 (24 by float8e8m0, 25 by the 2-bit integers), at each opset.
for opset in (23, 24, 25):
    case("shape_ops",
         model_at(opset, [helper.make_node("Reshape", ["x", "shape"], ["r"]),
                          helper.make_node("Transpose", ["r"], ["t"], perm=[2, 0, 1]),
                          helper.make_node("Unsqueeze", ["t", "ax0"], ["u"]),
                          helper.make_node("Squeeze", ["u", "ax0"], ["sq"]),
                          helper.make_node("Flatten", ["sq"], ["f"], axis=2),
                          helper.make_node("Pad", ["f", "pads"], ["p"], mode="edge"),
                          helper.make_node("Cast", ["p"], ["c"], to=TensorProto.INT32),
                          helper.make_node("CastLike", ["c", "x"], ["cl"]),
                          helper.make_node("Identity", ["cl"], ["i"]),
                          helper.make_node("Shape", ["i"], ["shape_of"]),
                          helper.make_node("Size", ["i"], ["size_of"]),
                          helper.make_node("ConstantOfShape", ["shape_of"], ["filled"],
                                           value=numpy_helper.from_array(np.array([2.5], dtype=np.float32))),
                          helper.make_node("QuantizeLinear", ["x", "qs", "qz"], ["q"]),
                          helper.make_node("DequantizeLinear", ["q", "qs", "qz"], ["dq"])],
                  [vi("x", F, [2, 6])],
                  [vi("i", F), vi("shape_of", TensorProto.INT64), vi("size_of", TensorProto.INT64), vi("filled", F),
                   vi("q", TensorProto.UINT8), vi("dq", F)],
                  [ints("shape", [2, 3, 2]), ints("ax0", [0]), ints("pads", [0, 1, 1, 0]),
                   numpy_helper.from_array(np.array(0.04, dtype=np.float32), "qs"),
                   numpy_helper.from_array(np.array(120, dtype=np.uint8), "qz")]),
         {"x": floats22(2, 6) * 4})
# 24: TopK and SplitToSequence gained bfloat16 (and Cast round_mode, for float8e8m0 targets only: ONNX Runtime
# refuses it on others, so newer_opset_cases_test checks it there).
case("topk_split_to_sequence_cast",
     model_at(24, [helper.make_node("TopK", ["x", "k"], ["values", "indices"], axis=1),
                   helper.make_node("SplitToSequence", ["values", "split"], ["seq"], axis=1),
                   helper.make_node("SequenceAt", ["seq", "one"], ["second"]),
                   helper.make_node("Cast", ["x"], ["rounded"], to=TensorProto.INT32)],
              [vi("x", F, [2, 5])],
              [vi("values", F), vi("indices", TensorProto.INT64), vi("second", F), vi("rounded", TensorProto.INT32)],
              [ints("k", [3]), ints("split", [1, 2]), ints("one", 1)]),
     {"x": floats22(2, 5) * 3})


# ---------------------------------------------------------------------------------------------------------
# Attention-23/24 and TensorScatter-24, from their own generator. ONNX Runtime 1.30 gives the expected
# outputs where it runs a case as the spec (with its errata onnx/onnx#7867 and #8068) has it; elsewhere the
# spec's formula below (attention_reference, in float64), and each such case says why.
rng23 = np.random.default_rng(23)
IR_23 = 10  # ONNX Runtime runs opsets 23 and 24 at IR 10 (the IR tandem's other newest cases use)


def model23(nodes, inputs, outputs, opset=23):
    m = model(nodes, inputs, outputs, opset=opset)
    m.ir_version = IR_23
    return m


def floats23(*shape):
    return rng23.standard_normal(shape).astype(np.float32)


def attention_reference(q, k, v, mask=None, past_k=None, past_v=None, nonpad=None, scale=None, causal=0,
                        q_heads=None, kv_heads=None, softcap=0.0, mode=0, opset=23):
    """The spec's Attention in float64: Y, present_key, present_value, qk_matmul_output. softcap before the
    mask (onnx/onnx#7867); causal keeps key t for query s when t <= s + offset, offset the past length, else
    nonpad_kv_seqlen - q_seq, else 0; a row with every key masked gives zeros (onnx/onnx#8068); at 24 a mask
    shorter than the keys is padded with -inf, a last axis of 1 included."""
    three_d = q.ndim == 3
    if three_d:
        split = lambda x, h: x.reshape(x.shape[0], x.shape[1], h, -1).transpose(0, 2, 1, 3)
        q, k, v = split(q, q_heads), split(k, kv_heads), split(v, kv_heads)
    q, k, v = (x.astype(np.float64) for x in (q, k, v))
    past = 0
    if past_k is not None:
        past = past_k.shape[2]
        k = np.concatenate([past_k.astype(np.float64), k], axis=2)
        v = np.concatenate([past_v.astype(np.float64), v], axis=2)
    b, hq, s, d = q.shape
    total = k.shape[2]
    group = hq // k.shape[1]
    kr, vr = np.repeat(k, group, axis=1), np.repeat(v, group, axis=1)
    scale = 1 / np.sqrt(d) if scale is None else scale
    scores = np.einsum("bhsd,bhtd->bhst", q, kr) * scale
    capped = softcap * np.tanh(scores / softcap) if softcap > 0 else scores
    bias = np.zeros((b, hq, s, total))
    if mask is not None:
        m = mask
        if opset >= 24 and m.shape[-1] < total:
            m = np.pad(m, [(0, 0)] * (m.ndim - 1) + [(0, total - m.shape[-1])],
                       constant_values=(False if m.dtype == np.bool_ else -np.inf))
        bias = bias + (np.where(m, 0.0, -np.inf) if m.dtype == np.bool_ else m.astype(np.float64))
    rows, cols = np.arange(s)[:, None], np.arange(total)[None, :]
    if causal:
        for i in range(b):
            offset = past if past_k is not None else (nonpad[i] - s if nonpad is not None else 0)
            bias[i] += np.where(cols > rows + offset, -np.inf, 0.0)
    if nonpad is not None:
        bias += np.where(cols[None] < nonpad[:, None, None], 0.0, -np.inf)[:, None]
    biased = capped + bias
    top = biased.max(-1, keepdims=True)
    dead = np.isneginf(top)
    e = np.exp(biased - np.where(dead, 0, top))
    probs = np.where(dead, 0.0, e / np.where(dead, 1, e.sum(-1, keepdims=True)))
    y = np.einsum("bhst,bhtd->bhsd", probs, vr)
    if three_d:
        y = y.transpose(0, 2, 1, 3).reshape(b, s, -1)
    qk = {0: scores, 1: capped, 2: biased, 3: probs}[mode]
    return y, k, v, qk


def attention_case(name, inputs, attrs=None, outputs=("Y",), opset=23, expected=None, elem=F):
    """inputs: (graph input name, array or None) in the op's order; None leaves an optional input out."""
    names = [n if a is not None else "" for n, a in inputs]
    while names and names[-1] == "":
        names.pop()
    outs = [o if o else "" for o in outputs]
    node = helper.make_node("Attention", names, outs, **(attrs or {}))
    feeds = {n: a for n, a in inputs if a is not None}
    vis = []
    for n, a in feeds.items():
        t = TensorProto.BFLOAT16 if isinstance(a, BFloat16Array) else helper.np_dtype_to_tensor_dtype(a.dtype) \
            if hasattr(helper, "np_dtype_to_tensor_dtype") else onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[a.dtype]
        vis.append(vi(n, t, list(a.values.shape if isinstance(a, BFloat16Array) else a.shape)))
    v_elem = {1: elem, 2: vis[2].type.tensor_type.elem_type}
    out_vis = [vi(o, v_elem.get(i, elem)) for i, o in enumerate(outputs) if o]
    case(name, model23([node], vis, out_vis, opset=opset), feeds, expected)


def ref_outputs(outputs, result):
    return {o: r for o, r in zip(outputs, result) if o}


# 4-D cross attention (4 queries, 6 keys), default scale.
attention_case("attention_4d", [("Q", floats23(2, 3, 4, 8)), ("K", floats23(2, 3, 6, 8)), ("V", floats23(2, 3, 6, 8))])
# Grouped-query attention (4 query heads share 2 key/value heads: head h reads kv head h // 2), V's head size
# 5 beside Q's and K's 8.
attention_case("attention_4d_gqa_v_head_size",
               [("Q", floats23(2, 4, 3, 8)), ("K", floats23(2, 2, 5, 8)), ("V", floats23(2, 2, 5, 5))])
# 3-D inputs [batch, seq, heads * head_size] with q_num_heads 4, kv_num_heads 2; Y is 3-D too.
attention_case("attention_3d_gqa",
               [("Q", floats23(2, 3, 4 * 8)), ("K", floats23(2, 5, 2 * 8)), ("V", floats23(2, 5, 2 * 6))],
               {"q_num_heads": 4, "kv_num_heads": 2})
# is_causal without a past: the upper-left diagonal (query s sees keys 0..s) also when keys outnumber queries.
attention_case("attention_causal", [("Q", floats23(1, 2, 4, 8)), ("K", floats23(1, 2, 6, 8)),
                                    ("V", floats23(1, 2, 6, 8))], {"is_causal": 1})
# is_causal with a past of 3: query s sees keys 0..3 + s; present_key/present_value are past + new.
attention_case("attention_causal_past_present",
               [("Q", floats23(2, 2, 3, 4)), ("K", floats23(2, 2, 3, 4)), ("V", floats23(2, 2, 3, 6)), ("m", None),
                ("pk", floats23(2, 2, 3, 4)), ("pv", floats23(2, 2, 3, 6))], {"is_causal": 1},
               outputs=("Y", "present_key", "present_value"))
# 3-D inputs with a (4-D) past, GQA, and a float mask over all 7 keys.
attention_case("attention_3d_past_present_mask",
               [("Q", floats23(1, 2, 4 * 4)), ("K", floats23(1, 3, 2 * 4)), ("V", floats23(1, 3, 2 * 4)),
                ("m", floats23(2, 7)), ("pk", floats23(1, 2, 4, 4)), ("pv", floats23(1, 2, 4, 4))],
               {"q_num_heads": 4, "kv_num_heads": 2}, outputs=("Y", "present_key", "present_value"))
# A bool mask [batch, 1, q, keys] (false: masked), broadcast over heads, with one query row masked
# entirely: its output row is zeros (onnx/onnx#8068; ONNX Runtime agrees).
bool_mask = rng23.random((2, 1, 3, 5)) > 0.35
bool_mask[1, 0, 2, :] = False
attention_case("attention_bool_mask_broadcast", [("Q", floats23(2, 2, 3, 4)), ("K", floats23(2, 2, 5, 4)),
                                                 ("V", floats23(2, 2, 5, 4)), ("m", bool_mask)])
# A float mask [q, keys] added to every batch and head, with is_causal on top.
attention_case("attention_float_mask_2d_causal", [("Q", floats23(2, 2, 4, 4)), ("K", floats23(2, 2, 4, 4)),
                                                  ("V", floats23(2, 2, 4, 4)), ("m", floats23(4, 4))],
               {"is_causal": 1})
# softcap 2 and a custom scale, with a float mask holding -inf: softcap comes first, so -inf stays masked.
sc_mask = floats23(3, 6)
sc_mask[:, 1] = -np.inf
attention_case("attention_softcap_scale_mask", [("Q", floats23(1, 2, 3, 8) * 3), ("K", floats23(1, 2, 6, 8) * 3),
                                                ("V", floats23(1, 2, 6, 8)), ("m", sc_mask)],
               {"softcap": 2.0, "scale": 0.3})
# qk_matmul_output in each mode: 0 the scaled product, 1 after softcap, 2 after the mask, 3 after softmax.
qk_inputs = [("Q", floats23(2, 2, 3, 4) * 2), ("K", floats23(2, 2, 5, 4) * 2), ("V", floats23(2, 2, 5, 4)),
             ("m", floats23(2, 1, 3, 5))]
for mode in range(4):
    attention_case(f"attention_qk_output_mode_{mode}", qk_inputs, {"softcap": 1.5, "qk_matmul_output_mode": mode},
                   outputs=("Y", "", "", "qk"))
# Mode 2 with a bool mask and is_causal: masked scores are -inf in the spec. ONNX Runtime writes its finite
# stand-in (-3.4e38) there, so the expected outputs are the spec's formula.
m2 = [("Q", floats23(1, 2, 3, 4)), ("K", floats23(1, 2, 3, 4)), ("V", floats23(1, 2, 3, 4)),
      ("m", rng23.random((3, 3)) > 0.3)]
attention_case("attention_qk_output_mode_2_bool_causal", m2, {"qk_matmul_output_mode": 2, "is_causal": 1},
               outputs=("Y", "", "", "qk"),
               expected=ref_outputs(("Y", "", "", "qk"),
                                    (r.astype(np.float32) for r in attention_reference(
                                        *(a for _, a in m2[:3]), mask=m2[3][1], causal=1, mode=2))))
# A mask broadcast along the query axis ([batch, 1, 1, keys] and [keys]): the spec's broadcasting; ONNX
# Runtime refuses a mask whose query axis is 1, so the expected outputs are the spec's formula.
for mshape in [(2, 1, 1, 5), (5,)]:
    bq = [("Q", floats23(2, 2, 3, 4)), ("K", floats23(2, 2, 5, 4)), ("V", floats23(2, 2, 5, 4)),
          ("m", floats23(*mshape))]
    attention_case(f"attention_mask_{len(mshape)}d_query_axis_broadcast", bq,
                   expected=ref_outputs(("Y",), (attention_reference(*(a for _, a in bq[:3]),
                                                                     mask=bq[3][1])[0].astype(np.float32),)))
# One query after a past of 4 with 2 new keys, causal: the query sees keys 0..4, not the last new one.
# ONNX Runtime skips causal masking whenever a single query follows a past (right only when one key is
# new), so the expected outputs are the spec's formula.
dec = [("Q", floats23(1, 2, 1, 4)), ("K", floats23(1, 2, 2, 4)), ("V", floats23(1, 2, 2, 4)), ("m", None),
       ("pk", floats23(1, 2, 4, 4)), ("pv", floats23(1, 2, 4, 4))]
dec_ref = attention_reference(dec[0][1], dec[1][1], dec[2][1], past_k=dec[4][1], past_v=dec[5][1], causal=1)
attention_case("attention_decode_causal_past", dec, {"is_causal": 1}, outputs=("Y", "present_key", "present_value"),
               expected=ref_outputs(("Y", "present_key", "present_value"),
                                    (r.astype(np.float32) for r in dec_ref[:3])))
# float64 (ONNX Runtime runs it), and float16 and bfloat16, whose expected outputs are the spec's formula in
# float64 rounded once (ONNX Runtime computes float16 in its own precision; bfloat16 has no kernel there).
attention_case("attention_float64", [("Q", floats23(1, 2, 3, 4).astype(np.float64)),
                                     ("K", floats23(1, 2, 4, 4).astype(np.float64)),
                                     ("V", floats23(1, 2, 4, 4).astype(np.float64))], {"is_causal": 1},
               elem=TensorProto.DOUBLE)
h16 = [("Q", floats23(1, 2, 3, 8).astype(np.float16)), ("K", floats23(1, 2, 4, 8).astype(np.float16)),
       ("V", floats23(1, 2, 4, 8).astype(np.float16))]
attention_case("attention_float16", h16, elem=TensorProto.FLOAT16,
               expected={"Y": attention_reference(*(a for _, a in h16))[0].astype(np.float16)})
b16 = [(n, BFloat16Array(floats23(1, 2, 3, 8))) for n in ("Q", "K", "V")]
attention_case("attention_bfloat16", b16, elem=TensorProto.BFLOAT16,
               expected={"Y": BFloat16Array(attention_reference(*(a.widened() for _, a in b16))[0])})

# Attention-24: nonpad_kv_seqlen (keys at or past each row's count are masked), alone and with is_causal
# (bottom-right: query s sees keys up to s + count - q_seq, onnx/onnx#8068; ONNX Runtime 1.30 agrees).
nonpad = np.array([4, 6], dtype=np.int64)
for causal in (0, 1):
    attention_case(f"attention_nonpad_kv_seqlen{'_causal' if causal else ''}",
                   [("Q", floats23(2, 2, 3, 4)), ("K", floats23(2, 2, 6, 4)), ("V", floats23(2, 2, 6, 4)),
                    ("m", None), ("pk", None), ("pv", None), ("nonpad", nonpad)], {"is_causal": causal}, opset=24)
# 3-D GQA with a bool mask at 24.
attention_case("attention_3d_gqa_bool_mask",
               [("Q", floats23(2, 3, 4 * 4)), ("K", floats23(2, 4, 2 * 4)), ("V", floats23(2, 4, 2 * 4)),
                ("m", rng23.random((2, 4, 3, 4)) > 0.2)], {"q_num_heads": 4, "kv_num_heads": 2}, opset=24)
# At 24 attn_mask's last axis may be shorter than the keys: the keys it does not cover are masked. ONNX
# Runtime refuses the short mask, so the expected outputs are the spec's formula.
for mtype in ("float", "bool"):
    short = [("Q", floats23(2, 2, 3, 4)), ("K", floats23(2, 2, 6, 4)), ("V", floats23(2, 2, 6, 4)),
             ("m", floats23(3, 4) if mtype == "float" else rng23.random((2, 1, 3, 4)) > 0.3), ("pk", None),
             ("pv", None), ("nonpad", np.array([4, 3], dtype=np.int64))]
    attention_case(f"attention_short_{mtype}_mask", short, opset=24,
                   expected={"Y": attention_reference(*(a for _, a in short[:3]), mask=short[3][1],
                                                      nonpad=short[6][1], opset=24)[0].astype(np.float32)})


# TensorScatter-24: write `update` into a copy of past_cache along `axis` at each batch row's write index.
def tensor_scatter_reference(cache, update, write, axis, mode):  # the spec's pseudocode
    out = cache.copy()
    axis %= cache.ndim
    for prefix in np.ndindex(cache.shape[:axis]):
        for i in range(update.shape[axis]):
            at = write[prefix[0]] + i
            if mode == "circular":
                at %= cache.shape[axis]
            out[prefix + (at,)] = update[prefix + (i,)]
    return out


def scatter_case(name, cache, update, write, expected=None, **attrs):
    ins = ["cache", "update"] + (["write"] if write is not None else [])
    elem = helper.np_dtype_to_tensor_dtype(cache.dtype) if hasattr(helper, "np_dtype_to_tensor_dtype") \
        else onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[cache.dtype]
    vis = [vi("cache", elem, list(cache.shape)), vi("update", elem, list(update.shape))]
    feeds = {"cache": cache, "update": update}
    if write is not None:
        vis.append(vi("write", TensorProto.INT64, [len(write)]))
        feeds["write"] = np.array(write, dtype=np.int64)
    case(name, model23([helper.make_node("TensorScatter", ins, ["out"], **attrs)], vis, [vi("out", elem)],
                       opset=24), feeds, expected)


scatter_case("tensor_scatter_linear", floats23(2, 3, 6, 4), floats23(2, 3, 2, 4), [1, 4])
scatter_case("tensor_scatter_linear_no_indices", floats23(2, 2, 5, 3), floats23(2, 2, 3, 3), None)
scatter_case("tensor_scatter_circular", floats23(2, 3, 6, 4), floats23(2, 3, 3, 4), [5, 3], mode="circular")
scatter_case("tensor_scatter_circular_axis1_int32", rng23.integers(-99, 99, (2, 5, 3)).astype(np.int32),
             rng23.integers(-99, 99, (2, 4, 3)).astype(np.int32), [3, 7], mode="circular", axis=1)
scatter_case("tensor_scatter_linear_last_axis_float16", floats23(2, 2, 3, 6).astype(np.float16),
             floats23(2, 2, 3, 2).astype(np.float16), [0, 4], axis=-1)
# A negative write index in circular mode counts from the end (the spec's numpy modulo); ONNX Runtime
# refuses it, so the expected output is the spec's pseudocode.
neg_cache, neg_update = floats23(2, 2, 5, 3), floats23(2, 2, 2, 3)
scatter_case("tensor_scatter_circular_negative_index", neg_cache, neg_update, [-1, 2], mode="circular",
             expected={"out": tensor_scatter_reference(neg_cache, neg_update, [-1, 2], -2, "circular")})


# ---------------------------------------------------------------------------------------------------------
# Opset 26 (ONNX 1.21): CumProd and BitCast, new. Own generator, as above.
rng26 = np.random.default_rng(26)
for exclusive, reverse in [(0, 0), (1, 0), (0, 1), (1, 1)]:
    case(f"cumprod_exclusive_{exclusive}_reverse_{reverse}",
         model_at(26, [helper.make_node("CumProd", ["x", "axis"], ["y"], exclusive=exclusive, reverse=reverse),
                       helper.make_node("CumProd", ["xi", "axis_neg"], ["yi"], exclusive=exclusive, reverse=reverse)],
                  [vi("x", F, [3, 4]), vi("xi", TensorProto.INT64, [2, 5])], [vi("y", F), vi("yi", TensorProto.INT64)],
                  [numpy_helper.from_array(np.array(1, dtype=np.int32), "axis"), ints("axis_neg", -2)]),
         {"x": rng26.uniform(0.5, 1.5, (3, 4)).astype(np.float32),
          "xi": rng26.integers(-4, 5, (2, 5)).astype(np.int64)})
case("bitcast",
     model_at(26, [helper.make_node("BitCast", ["x"], ["as_int"], to=TensorProto.INT32),
                   helper.make_node("BitCast", ["as_int"], ["back"], to=TensorProto.FLOAT),
                   helper.make_node("BitCast", ["h"], ["h_bits"], to=TensorProto.UINT16),
                   helper.make_node("BitCast", ["b"], ["b_as_int8"], to=TensorProto.INT8)],
              [vi("x", F, [2, 3]), vi("h", TensorProto.FLOAT16, [4]), vi("b", TensorProto.UINT8, [5])],
              [vi("as_int", TensorProto.INT32), vi("back", F), vi("h_bits", TensorProto.UINT16),
               vi("b_as_int8", TensorProto.INT8)]),
     {"x": rng26.standard_normal((2, 3)).astype(np.float32),
      "h": np.array([1.5, -0.0, 65504, np.inf], dtype=np.float16),
      "b": np.array([0, 1, 127, 128, 255], dtype=np.uint8)})


# ---------------------------------------------------------------------------------------------------------
# Opset 23: RMSNormalization and RotaryEmbedding; opset 24: Swish. Inputs from their own generator, so the
# cases above keep theirs. ONNX Runtime takes these models at IR 10.
rng23 = np.random.default_rng(23)


def floats23(*shape, dtype=np.float32):
    return rng23.standard_normal(shape).astype(dtype)


def model23(nodes, inputs, outputs, initializers=(), opset=23):
    m = model(nodes, inputs, outputs, initializers, opset=opset)
    m.ir_version = 10
    return m


# RMSNormalization-23: over the axes from `axis` on, positive and negative; scale of the whole normalised
# shape, broadcast within it, and (as ONNX Runtime takes it) varying along a leading axis of X; epsilon;
# float16 (computed wider and rounded once, as ONNX Runtime does) and double with stash_type double.
def rms_case(name, x, scale, elem=F, **attrs):
    case(f"rms_normalization_{name}",
         model23([helper.make_node("RMSNormalization", ["x", "scale"], ["y"], **attrs)],
                 [vi("x", elem, list(x.shape)), vi("scale", elem, list(scale.shape))], [vi("y", elem)]),
         {"x": x, "scale": scale})


rms_case("last_axis", floats23(2, 3, 8), floats23(8))
rms_case("axis_1", floats23(2, 3, 4, 5), floats23(3, 4, 5), axis=1)
rms_case("negative_axis_broadcast_scale", floats23(2, 3, 4, 5), floats23(1, 5), axis=-2)
rms_case("scale_along_leading_axis", floats23(2, 3, 6), floats23(2, 1, 6))
rms_case("axis_0_epsilon", (floats23(3, 4) * 0.3).astype(np.float32), floats23(4), axis=0, epsilon=0.25)
rms_case("float16", (floats23(3, 16) * 4).astype(np.float16), floats23(16, dtype=np.float16),
         elem=TensorProto.FLOAT16)
rms_case("double_stash_double", floats23(2, 5, dtype=np.float64), floats23(5, dtype=np.float64),
         elem=TensorProto.DOUBLE, stash_type=TensorProto.DOUBLE)
# bfloat16: onnxruntime-node passes no bfloat16 tensors, so the expected output is the spec's formula in
# double, rounded once.
rms_bf_x, rms_bf_s = BFloat16Array(floats23(2, 12) * 3), BFloat16Array(floats23(12))
rms_bf_xd = rms_bf_x.widened().astype(np.float64)
case("rms_normalization_bfloat16",
     model23([helper.make_node("RMSNormalization", ["x", "scale"], ["y"])],
             [vi("x", TensorProto.BFLOAT16, [2, 12]), vi("scale", TensorProto.BFLOAT16, [12])],
             [vi("y", TensorProto.BFLOAT16)]),
     {"x": rms_bf_x, "scale": rms_bf_s},
     expected={"y": BFloat16Array(rms_bf_xd / np.sqrt((rms_bf_xd ** 2).mean(axis=-1, keepdims=True) + 1e-5)
                                  * rms_bf_s.widened())})


# RotaryEmbedding-23: X 4-D [batch, heads, seq, head_size] or 3-D [batch, seq, hidden] with num_heads;
# pairs interleaved or half-split; caches per token (no position_ids) or per position (position_ids);
# partial rotation (rotary_embedding_dim below the head size, the rest copied). The caches hold true
# cosines and sines of random angles.
def rope_caches(*shape, dtype=np.float32):
    angles = rng23.uniform(-np.pi, np.pi, shape)
    return np.cos(angles).astype(dtype), np.sin(angles).astype(dtype)


def rope_case(name, x, caches, positions=None, elem=F, **attrs):
    cos, sin = caches
    inputs = [vi("x", elem, list(x.shape)), vi("cos", elem, list(cos.shape)), vi("sin", elem, list(sin.shape))]
    feeds = {"x": x, "cos": cos, "sin": sin}
    names = ["x", "cos", "sin"]
    if positions is not None:
        inputs.append(vi("pos", TensorProto.INT64, list(positions.shape)))
        feeds["pos"] = positions
        names.append("pos")
    case(f"rotary_embedding_{name}",
         model23([helper.make_node("RotaryEmbedding", names, ["y"], **attrs)], inputs, [vi("y", elem)]), feeds)


for il in (0, 1):
    rope_case(f"4d_interleaved_{il}", floats23(2, 3, 5, 8), rope_caches(2, 5, 4), interleaved=il)
    rope_case(f"3d_position_ids_interleaved_{il}", floats23(2, 5, 24), rope_caches(12, 4),
              rng23.integers(0, 12, (2, 5)).astype(np.int64), num_heads=3, interleaved=il)
rope_case("4d_partial_position_ids", floats23(1, 2, 4, 10), rope_caches(8, 3),
          rng23.integers(0, 8, (1, 4)).astype(np.int64), rotary_embedding_dim=6)
rope_case("3d_partial_interleaved", floats23(2, 3, 20), rope_caches(2, 3, 2), num_heads=2, rotary_embedding_dim=4,
          interleaved=1)
rope_case("float16_position_ids", (floats23(2, 2, 3, 16) * 4).astype(np.float16), rope_caches(6, 8, dtype=np.float16),
          rng23.integers(0, 6, (2, 3)).astype(np.int64), elem=TensorProto.FLOAT16)

# bfloat16, which onnxruntime-node cannot pass: the spec's formula in float32 (the precision ONNX Runtime
# computes the 16-bit types in), rounded once. 3-D X, two heads of 6, position_ids, half-split pairs.
rope_bf_x = BFloat16Array(floats23(2, 3, 12) * 3)
rope_bf_cos, rope_bf_sin = (BFloat16Array(c) for c in rope_caches(5, 3))
rope_bf_pos = rng23.integers(0, 5, (2, 3)).astype(np.int64)
rope_bf_c = rope_bf_cos.widened()[rope_bf_pos][:, :, None, :]
rope_bf_s = rope_bf_sin.widened()[rope_bf_pos][:, :, None, :]
rope_bf_x1, rope_bf_x2 = np.split(rope_bf_x.widened().reshape(2, 3, 2, 6), 2, axis=-1)
case("rotary_embedding_bfloat16",
     model23([helper.make_node("RotaryEmbedding", ["x", "cos", "sin", "pos"], ["y"], num_heads=2)],
             [vi("x", TensorProto.BFLOAT16, [2, 3, 12]), vi("cos", TensorProto.BFLOAT16, [5, 3]),
              vi("sin", TensorProto.BFLOAT16, [5, 3]), vi("pos", TensorProto.INT64, [2, 3])],
             [vi("y", TensorProto.BFLOAT16)]),
     {"x": rope_bf_x, "cos": rope_bf_cos, "sin": rope_bf_sin, "pos": rope_bf_pos},
     expected={"y": BFloat16Array(np.concatenate([rope_bf_c * rope_bf_x1 - rope_bf_s * rope_bf_x2,
                                                  rope_bf_s * rope_bf_x1 + rope_bf_c * rope_bf_x2],
                                                 axis=-1).reshape(2, 3, 12))})


# Swish-24: x * sigmoid(alpha * x), alpha by default (1) and given (one of each sign), in float and double.
case("swish_default_and_alpha",
     model23([helper.make_node("Swish", ["x"], ["y"]), helper.make_node("Swish", ["x"], ["y_half"], alpha=0.5),
              helper.make_node("Swish", ["x"], ["y_neg"], alpha=-1.75)],
             [vi("x", F, [3, 7])], [vi("y", F), vi("y_half", F), vi("y_neg", F)], opset=24),
     {"x": (floats23(3, 7) * 4).astype(np.float32)})
case("swish_double",
     model23([helper.make_node("Swish", ["x"], ["y"], alpha=2.5)], [vi("x", TensorProto.DOUBLE, [4, 5])],
             [vi("y", TensorProto.DOUBLE)], opset=24),
     {"x": floats23(4, 5, dtype=np.float64) * 4})
case("swish_float16",
     model23([helper.make_node("Swish", ["x"], ["y"], alpha=1.25)], [vi("x", TensorProto.FLOAT16, [2, 9])],
             [vi("y", TensorProto.FLOAT16)], opset=24),
     {"x": (floats23(2, 9) * 4).astype(np.float16)})


# ---------------------------------------------------------------------------------------------------------
# LpPool (changed in 18: dilations, ceil_mode), GlobalLpPool and LpNormalization, ops of every opset that
# tandem had no kernel for: ONNX 1.12 has no backend cases for them. Models at opset 18. Own generator.
rng18 = np.random.default_rng(18)
for name, attrs in [("lppool_p2_pads", dict(kernel_shape=[2, 3], pads=[1, 0, 0, 1], p=2)),
                    ("lppool_p1_strides", dict(kernel_shape=[3, 3], strides=[2, 1], p=1)),
                    ("lppool_p3_dilations_ceil", dict(kernel_shape=[2, 2], dilations=[2, 1], strides=[2, 2],
                                                      ceil_mode=1, p=3))]:
    case(name,
         model([helper.make_node("LpPool", ["x"], ["y"], **attrs)], [vi("x", F, [1, 2, 5, 6])], [vi("y", F)],
               opset=18),
         {"x": rng18.standard_normal((1, 2, 5, 6)).astype(np.float32)})
case("lppool_1d_auto_pad",
     model([helper.make_node("LpPool", ["x"], ["y"], kernel_shape=[3], auto_pad="SAME_UPPER", strides=[2])],
           [vi("x", F, [2, 3, 7])], [vi("y", F)], opset=18),
     {"x": rng18.standard_normal((2, 3, 7)).astype(np.float32)})
case("global_lp_pool",
     model([helper.make_node("GlobalLpPool", ["x"], ["y2"]), helper.make_node("GlobalLpPool", ["x"], ["y1"], p=1)],
           [vi("x", F, [2, 3, 4, 5])], [vi("y2", F), vi("y1", F)], opset=18),
     {"x": rng18.standard_normal((2, 3, 4, 5)).astype(np.float32)})
lpn_x = rng18.standard_normal((3, 4, 2)).astype(np.float32)
lpn_x[1, :, 0] = 0  # a zero vector along axis 1: ONNX Runtime leaves it zero
case("lp_normalization",
     model([helper.make_node("LpNormalization", ["x"], ["l2_last"]),
            helper.make_node("LpNormalization", ["x"], ["l1_axis1"], axis=1, p=1),
            helper.make_node("LpNormalization", ["x"], ["l2_axis1"], axis=-2, p=2)],
           [vi("x", F, [3, 4, 2])], [vi("l2_last", F), vi("l1_axis1", F), vi("l2_axis1", F)], opset=18),
     {"x": lpn_x})


# ---------------------------------------------------------------------------------------------------------
# MaxRoiPool, the last op of opsets up to 17 that tandem had no kernel for (ONNX 1.12 has no backend case for
# it); bfloat16 came with opset 22. Own generator.
rng_roi = np.random.default_rng(1)


def round_half_away(v):
    return math.floor(abs(v) + 0.5) * (1 if v >= 0 else -1)


def max_roi_pool_reference(x, rois, pooled, scale):
    """ONNX's reference semantics: coordinates and bin edges in float32 (float64 for float64 X)."""
    c = np.float64 if x.dtype == np.float64 else np.float32
    ph_n, pw_n = pooled
    y = np.zeros((rois.shape[0], x.shape[1], ph_n, pw_n), dtype=x.dtype)
    for n, roi in enumerate(rois.astype(c)):
        b = int(roi[0])
        sw, sh, ew, eh = (round_half_away(float(roi[k] * c(scale))) for k in (1, 2, 3, 4))
        bin_h = c(max(eh - sh + 1, 1)) / c(ph_n)
        bin_w = c(max(ew - sw + 1, 1)) / c(pw_n)

        def span(i, size, bin_size, start):
            lo = float(np.floor(c(i) * bin_size)) + start
            hi = float(np.ceil(c(i + 1) * bin_size)) + start
            return int(min(max(lo, 0), size)), int(min(max(hi, 0), size))

        for i in range(ph_n):
            h0, h1 = span(i, x.shape[2], bin_h, sh)
            for j in range(pw_n):
                w0, w1 = span(j, x.shape[3], bin_w, sw)
                if h1 > h0 and w1 > w0:
                    y[n, :, i, j] = x[b, :, h0:h1, w0:w1].max(axis=(1, 2))
    return y


roi_boxes = np.array([[0, 1, 1, 6, 5],        # an ordinary region
                      [1, 0, 0, 9, 7],        # the whole of batch 1
                      [1, 2.5, 1.5, 7.5, 6.5],  # halves: rounded away from zero
                      [0, 6, 5, 2, 1],        # x2 < x1, y2 < y1: made 1 x 1
                      [0, -3, -2, 12, 11]],   # beyond X on every side: clipped
                     dtype=np.float32)
roi_x = rng_roi.uniform(0.1, 1.0, (2, 3, 8, 10)).astype(np.float32)
for name, attrs in [("max_roi_pool", dict(pooled_shape=[3, 2])),
                    ("max_roi_pool_scaled", dict(pooled_shape=[2, 4], spatial_scale=0.5))]:
    case(name,
         model([helper.make_node("MaxRoiPool", ["x", "rois"], ["y"], **attrs)],
               [vi("x", F, [2, 3, 8, 10]), vi("rois", F, [5, 5])], [vi("y", F)], opset=18),
         {"x": roi_x, "rois": roi_boxes})
# Elements of either sign: ONNX Runtime starts each bin's max at FLT_MIN (the smallest positive float), so a
# bin of negative elements comes out as 1.2e-38; ONNX's reference (the largest element) is used instead.
# One more region lies wholly outside X: its bins are 0.
roi_signed = rng_roi.standard_normal((2, 3, 8, 10)).astype(np.float32) - 0.5
roi_boxes_out = np.vstack([roi_boxes, [[1, 20, 20, 25, 25]]]).astype(np.float32)
case("max_roi_pool_negative",
     model([helper.make_node("MaxRoiPool", ["x", "rois"], ["y"], pooled_shape=[4, 3])],
           [vi("x", F, [2, 3, 8, 10]), vi("rois", F, [6, 5])], [vi("y", F)], opset=18),
     {"x": roi_signed, "rois": roi_boxes_out},
     expected={"y": max_roi_pool_reference(roi_signed, roi_boxes_out, (4, 3), 1.0)})
# bfloat16 (opset 22), which ONNX Runtime does not take: the reference on the widened values.
roi_x16 = BFloat16Array(rng_roi.standard_normal((2, 3, 8, 10)))
roi_boxes16 = BFloat16Array(roi_boxes_out)
case("max_roi_pool_bfloat16",
     model([helper.make_node("MaxRoiPool", ["x", "rois"], ["y"], pooled_shape=[3, 3], spatial_scale=0.75)],
           [vi("x", TensorProto.BFLOAT16, [2, 3, 8, 10]), vi("rois", TensorProto.BFLOAT16, [6, 5])],
           [vi("y", TensorProto.BFLOAT16)], opset=22),
     {"x": roi_x16, "rois": roi_boxes16},
     expected={"y": BFloat16Array(max_roi_pool_reference(roi_x16.widened(), roi_boxes16.widened(), (3, 3), 0.75))})

def to_json(a):
    if a.dtype == object:
        return {"type": "string", "dims": list(a.shape), "data": [str(v) for v in a.ravel()]}
    if a.dtype == np.float16:  # as its bits, which onnxruntime-node takes and gives
        return {"type": "float16", "dims": list(a.shape), "data": a.view(np.uint16).ravel().tolist()}
    kinds = {np.float32: "float32", np.float64: "float64", np.int64: "int64", np.int32: "int32",
             np.uint8: "uint8", np.int8: "int8", np.bool_: "bool", np.int16: "int16", np.uint16: "uint16"}
    t = kinds[a.dtype.type]
    data = a.ravel().tolist()
    if t in ("int64",):
        data = [str(v) for v in data]
    if t == "bool":
        data = [int(v) for v in data]
    if t in ("float32", "float64"):
        data = [v if math.isfinite(v) else str(v).replace("inf", "Infinity").replace("nan", "NaN") for v in data]
    return {"type": t, "dims": list(a.shape), "data": data}


def from_json(t):
    dtypes = {"float32": np.float32, "float64": np.float64, "int64": np.int64, "int32": np.int32,
              "uint8": np.uint8, "int8": np.int8, "bool": np.bool_, "int16": np.int16, "uint16": np.uint16}
    if t["type"] == "string":
        return np.array(t["data"], dtype=object).reshape(t["dims"])
    if t["type"] == "float16":
        return np.array(t["data"], dtype=np.uint16).view(np.float16).reshape(t["dims"])
    data = [int(v) for v in t["data"]] if t["type"] == "int64" else t["data"]
    if t["type"] in ("float32", "float64"):
        data = [float(v) for v in data]  # "Infinity", "-Infinity", "NaN" included
    return np.array(data, dtype=dtypes[t["type"]]).reshape(t["dims"])


def write_tensor(path, name, a):
    if isinstance(a, BFloat16Array):
        t = TensorProto(name=name, data_type=TensorProto.BFLOAT16, dims=a.values.shape)
        t.raw_data = a.bits().tobytes()
    elif a.dtype == object:
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
        outs = {}
        if not expected or any(o.name not in expected for o in m.graph.output):
            with open(os.path.join(d, "ort_inputs.json"), "w") as f:
                json.dump({k: to_json(feeds[k]) for k in graph_inputs}, f)
            subprocess.run(["node", os.path.join(HERE, "run_ort.js"), d], check=True, env=env)
            with open(os.path.join(d, "ort_outputs.json")) as f:
                outs = json.load(f)
            os.remove(os.path.join(d, "ort_inputs.json"))
            os.remove(os.path.join(d, "ort_outputs.json"))
        for j, k in enumerate(graph_inputs):
            write_tensor(os.path.join(d, "test_data_set_0", f"input_{j}.pb"), k, feeds[k])
        for j, o in enumerate(m.graph.output):
            want = expected[o.name] if expected and o.name in expected else from_json(outs[o.name])
            write_tensor(os.path.join(d, "test_data_set_0", f"output_{j}.pb"), o.name, want)
        print("wrote", name)


if __name__ == "__main__":
    main()
