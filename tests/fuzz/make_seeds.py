# Writes the fuzz targets' seed corpus: seeds/model/ (small models, most of them over string tensors: every
# string op, Cast both ways, the element movers; a few random DAGs; some of the newer-opset cases) and seeds/tensor_file/ (.npy and .pb tensors, sequences
# and optionals, strings among them). Deterministic. Run with /usr/bin/python3 from this folder.
import os
import random
import shutil

import numpy as np
import onnx
from onnx import TensorProto as TP, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "seeds", "model")
TENSORS = os.path.join(HERE, "seeds", "tensor_file")
STRINGS = os.path.join(HERE, "..", "data", "strings")


def model(name, nodes, inputs, outputs, inits=(), opset=18):
    g = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="tandem-fuzz-seeds")
    m.ir_version = 8
    with open(os.path.join(MODELS, name + ".onnx"), "wb") as f:
        f.write(m.SerializeToString())


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def words(name, values, shape=None):
    a = np.array(values, dtype=object)
    return numpy_helper.from_array(a.reshape(shape) if shape else a, name)


def i64(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def write_models():
    s = lambda n, shape: vi(n, TP.STRING, shape)  # noqa: E731
    model("string_normalizer", [helper.make_node("StringNormalizer", ["x"], ["y"], case_change_action="UPPER",
                                                 is_case_sensitive=0, stopwords=["und", "the"], locale="en_US")],
          [s("x", [1, 4])], [s("y", None)])
    model("cast_from_string", [helper.make_node("Cast", ["x"], ["y"], to=TP.FLOAT16),
                               helper.make_node("Cast", ["x"], ["z"], to=TP.UINT64),
                               helper.make_node("CastLike", ["x", "b"], ["w"])],
          [s("x", [3])], [vi("y", TP.FLOAT16, [3]), vi("z", TP.UINT64, [3]), vi("w", TP.BOOL, [3])],
          [numpy_helper.from_array(np.array([True]), "b")])
    model("cast_to_string", [helper.make_node("Cast", ["x"], ["y"], to=TP.STRING),
                             helper.make_node("Cast", ["y"], ["z"], to=TP.DOUBLE)],
          [vi("x", TP.FLOAT, [2, 2])], [s("y", [2, 2]), vi("z", TP.DOUBLE, [2, 2])])
    model("tfidf_strings", [helper.make_node("TfIdfVectorizer", ["x"], ["y"], mode="TFIDF", min_gram_length=1,
                                             max_gram_length=3, max_skip_count=2, ngram_counts=[0, 2, 4],
                                             ngram_indexes=[0, 1, 2, 3], weights=[1.0, 2.0, 3.0, 4.0],
                                             pool_strings=["a", "b", "a", "b", "a", "b", "c"])],
          [s("x", [2, 5])], [vi("y", TP.FLOAT, [2, 4])])
    model("movers", [
        helper.make_node("Concat", ["x", "x"], ["c"], axis=1),
        helper.make_node("Gather", ["c", "idx"], ["g"], axis=1),
        helper.make_node("Slice", ["c", "st", "en", "ax"], ["sl"]),
        helper.make_node("Pad", ["sl", "pads", "fill"], ["p"], mode="constant"),
        helper.make_node("Transpose", ["p"], ["t"], perm=[1, 0]),
        helper.make_node("Where", ["cond", "g", "k"], ["w"]),
        helper.make_node("Unique", ["x"], ["u", "ui", "uinv", "ucount"], sorted=1),
        helper.make_node("Reshape", ["x", "shape"], ["r"]),
        helper.make_node("Tile", ["r", "reps"], ["tl"]),
        helper.make_node("Expand", ["k", "eshape"], ["e"]),
        helper.make_node("Split", ["c"], ["s0", "s1"], axis=1, num_outputs=2),
        helper.make_node("Flatten", ["t"], ["f"]),
        helper.make_node("Identity", ["f"], ["id"]),
    ], [s("x", [2, 3]), vi("cond", TP.BOOL, [2, 2])],
        [s(n, None) for n in ["g", "sl", "p", "t", "w", "u", "tl", "e", "s0", "s1", "id"]]
        + [vi(n, TP.INT64, None) for n in ["ui", "uinv", "ucount"]],
        [i64("idx", [0, 5]), i64("st", [1]), i64("en", [5]), i64("ax", [1]), i64("pads", [0, 1, 1, 0]),
         words("fill", ["pad"], []), words("k", ["k"], []), i64("shape", [3, 2]), i64("reps", [2, 1]),
         i64("eshape", [2, 1])])
    model("more_movers", [
        helper.make_node("GatherElements", ["x", "ge"], ["a"], axis=1),
        helper.make_node("GatherND", ["x", "gn"], ["b"]),
        helper.make_node("ScatterElements", ["x", "ge", "a"], ["c"], axis=1),
        helper.make_node("ScatterND", ["x", "gn1", "upd"], ["d"]),
        helper.make_node("Compress", ["x", "keep"], ["e"], axis=1),
        helper.make_node("ReverseSequence", ["x", "lens"], ["f"], batch_axis=0, time_axis=1),
        helper.make_node("Trilu", ["x"], ["g"], upper=1),
        helper.make_node("DepthToSpace", ["x4"], ["h"], blocksize=2),
        helper.make_node("SpaceToDepth", ["h"], ["i"], blocksize=2),
        helper.make_node("OneHot", ["oh", "depth", "ohv"], ["j"]),
        helper.make_node("NonZero", ["keep"], ["nz"]),
        helper.make_node("Squeeze", ["x4"], ["sq"]),
        helper.make_node("Unsqueeze", ["x", "ax0"], ["us"]),
        helper.make_node("Size", ["x"], ["sz"]),
        helper.make_node("Shape", ["x"], ["sh"]),
    ], [s("x", [2, 3]), s("x4", [1, 4, 1, 2])],
        [s(n, None) for n in ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "sq", "us"]]
        + [vi(n, TP.INT64, None) for n in ["nz", "sz", "sh"]],
        [i64("ge", [[2, 0, 1], [1, 1, 0]]), i64("gn", [[0, 1], [1, 2]]), i64("gn1", [[1, 0]]),
         words("upd", ["new"]), numpy_helper.from_array(np.array([True, False, True]), "keep"),
         i64("lens", [3, 1]), i64("oh", [0, 2]), i64("depth", [3]), words("ohv", ["off", "on"]), i64("ax0", [0])])
    model("sequences", [
        helper.make_node("SplitToSequence", ["x"], ["seq"], axis=1, keepdims=0),
        helper.make_node("SequenceInsert", ["seq", "extra"], ["seq2"]),
        helper.make_node("SequenceAt", ["seq2", "pos"], ["at"]),
        helper.make_node("SequenceErase", ["seq2", "pos"], ["seq3"]),
        helper.make_node("ConcatFromSequence", ["seq3"], ["cat"], axis=0, new_axis=1),
        helper.make_node("SequenceLength", ["seq3"], ["len"]),
        helper.make_node("Optional", ["at"], ["opt"]),
        helper.make_node("OptionalGetElement", ["opt"], ["got"]),
    ], [s("x", [2, 3])], [s("cat", None), vi("len", TP.INT64, None), s("got", None)],
        [words("extra", ["e1", "e2"]), i64("pos", -1)], opset=18)
    loop_body = helper.make_graph(
        [helper.make_node("Concat", ["acc_in", "x"], ["acc_out"], axis=0),
         helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Identity", ["x"], ["scan_out"])],
        "body", [vi("i", TP.INT64, []), vi("cond_in", TP.BOOL, []), s("acc_in", None)],
        [vi("cond_out", TP.BOOL, []), s("acc_out", None), s("scan_out", None)])
    model("control_flow", [
        helper.make_node("Loop", ["n", "", "x"], ["acc", "scans"], body=loop_body),
        helper.make_node("If", ["c"], ["picked"],
                         then_branch=helper.make_graph([helper.make_node("Identity", ["acc"], ["o"])], "then", [],
                                                       [s("o", None)]),
                         else_branch=helper.make_graph([helper.make_node("Identity", ["x"], ["o2"])], "else", [],
                                                       [s("o2", None)])),
    ], [s("x", [2]), vi("n", TP.INT64, []), vi("c", TP.BOOL, [])], [s("acc", None), s("scans", None),
                                                                       s("picked", None)])
    model("constant_of_strings", [
        helper.make_node("Constant", [], ["k"], value=words("kv", ["alpha", "βeta", "", "\u00e9"], [2, 2])),
        helper.make_node("Where", ["c", "k", "x"], ["eq"]),
        helper.make_node("StringNormalizer", ["flat"], ["low"], case_change_action="LOWER"),
        helper.make_node("Reshape", ["k", "m1"], ["flat"]),
    ], [s("x", [2, 2]), vi("c", TP.BOOL, [2, 1])], [s("eq", None), s("low", None)], [i64("m1", [-1])])
    model("lstm", [helper.make_node("LSTM", ["x", "w", "r", "b"], ["y", "h", "c"], hidden_size=3)],
          [vi("x", TP.FLOAT, ["seq", 1, 2])], [vi("y", TP.FLOAT, None), vi("h", TP.FLOAT, None),
                                              vi("c", TP.FLOAT, None)],
          [numpy_helper.from_array(np.linspace(-1, 1, 24, dtype=np.float32).reshape(1, 12, 2), "w"),
           numpy_helper.from_array(np.linspace(-1, 1, 36, dtype=np.float32).reshape(1, 12, 3), "r"),
           numpy_helper.from_array(np.zeros((1, 24), np.float32), "b")])
    # Ifs on conditions constant folding computes (Cast of an initializer), nested, their sibling branches
    # reusing the name "t" (renamed as they move into the main graph), and one whose nested If reads "t" and
    # tests an input, so it stays an If: graph/if_inlining.
    f = TP.FLOAT

    def branch(name, nodes, out):
        return helper.make_graph(nodes, name, [], [vi(out, f, [2, 3])])
    inner = helper.make_node("If", ["on"], ["i_out"],
                             then_branch=branch("i_then", [helper.make_node("Abs", ["t"], ["i_a"])], "i_a"),
                             else_branch=branch("i_else", [helper.make_node("Exp", ["t"], ["i_e"])], "i_e"))
    computed = helper.make_node("If", ["c"], ["k_out"],
                                then_branch=branch("k_then", [helper.make_node("Sin", ["t"], ["k_s"])], "k_s"),
                                else_branch=branch("k_else", [helper.make_node("Cos", ["t"], ["k_c"])], "k_c"))
    model("constant_ifs", [
        helper.make_node("Cast", ["one"], ["on"], to=TP.BOOL),
        helper.make_node("Cast", ["zero"], ["off"], to=TP.BOOL),
        helper.make_node("If", ["on"], ["a"],
                         then_branch=branch("a_then", [helper.make_node("Neg", ["x"], ["t"]), inner], "i_out"),
                         else_branch=branch("a_else", [helper.make_node("Identity", ["x"], ["a_x"])], "a_x")),
        helper.make_node("If", ["off"], ["b"],
                         then_branch=branch("b_then", [helper.make_node("Tanh", ["x"], ["b_t"])], "b_t"),
                         else_branch=branch("b_else", [helper.make_node("Mul", ["x", "x"], ["t"]),
                                                       helper.make_node("Add", ["t", "a"], ["b_s"])], "b_s")),
        helper.make_node("If", ["on"], ["k"],
                         then_branch=branch("c_then", [helper.make_node("Relu", ["x"], ["t"]), computed], "k_out"),
                         else_branch=branch("c_else", [helper.make_node("Identity", ["a"], ["c_a"])], "c_a")),
    ], [vi("x", f, [2, 3]), vi("c", TP.BOOL, [])], [vi("a", f, [2, 3]), vi("b", f, [2, 3]), vi("k", f, [2, 3])],
          [numpy_helper.from_array(np.array(1, np.int64), "one"), numpy_helper.from_array(np.array(0, np.int64), "zero")])
    shutil.copy(os.path.join(STRINGS, "text_features", "model.onnx"), os.path.join(MODELS, "text_features.onnx"))


def write_dag_models():
    # Random DAGs of a few dozen nodes (random_dag_models.py), so that fuzz_plan_model's seeds place many
    # nodes, views and recurrent nodes among them, over two devices.
    import random_dag_models

    rng = random.Random(2024)
    for k in range(6):
        with open(os.path.join(MODELS, f"dag_{k}.onnx"), "wb") as f:
            f.write(random_dag_models.make_model(rng).SerializeToString())


# A few of the newer-opset cases (tests/data/newer_opsets), so the fuzzers start from every op opsets 19 to
# 26 changed (for 19 to 21 they found Pad, AffineGrid and Resize running past the run's limit, and Resize's
# inference converting a huge scale to int64), and from the older ops given kernels later (LpPool,
# LpNormalization, MaxRoiPool).
NEWER_OPSET_SEEDS = [
    "opset19_averagepool_dilations_ceil_1d", "opset19_control_flow_and_shapes", "opset19_equal_string_broadcast",
    "opset19_pad_wrap_axes_crop", "opset19_quantize_dequantize_float16",
    "opset19_resize_half_pixel_symmetric_cubic_scales", "opset20_affinegrid_then_gridsample",
    "opset20_dft_default_axis_onesided_length", "opset20_gelu_exact_and_tanh", "opset20_reduce_max_min_bool",
    "opset20_gridsample_5d_linear_reflection_align_1",
    "opset20_string_split_whitespace_maxsplit", "opset21_group_normalization_per_channel",
    "opset21_qlinear_matmul_float16_scales", "opset21_quantize_dequantize_blocked_short_last_block",
    "opset22_conv_pool_round", "opset22_gru_rnn", "opset23_attention_3d_past_present_mask",
    "opset23_attention_softcap_scale_mask", "opset23_quantize_precision_float16",
    "opset23_rms_normalization_negative_axis_broadcast_scale", "opset23_rotary_embedding_4d_partial_position_ids",
    "opset23_rotary_embedding_3d_partial_interleaved", "opset24_attention_nonpad_kv_seqlen_causal",
    "opset24_tensor_scatter_circular_negative_index", "opset24_topk_split_to_sequence_cast",
    "opset24_swish_default_and_alpha", "opset25_shape_ops", "opset26_bitcast",
    "opset26_cumprod_exclusive_1_reverse_1", "opset18_lppool_p3_dilations_ceil", "opset18_lp_normalization",
    "opset18_max_roi_pool_negative"]


def copy_newer_opset_cases():
    cases = os.path.join(HERE, "..", "data", "newer_opsets")
    for name in NEWER_OPSET_SEEDS:
        shutil.copy(os.path.join(cases, name, "model.onnx"), os.path.join(MODELS, name + ".onnx"))


def pb(name, proto):
    with open(os.path.join(TENSORS, name), "wb") as f:
        f.write(proto.SerializeToString())


def write_tensors():
    for n in ["bytes_s.npy", "objects.npy", "words_u.npy"]:
        shutil.copy(os.path.join(STRINGS, n), os.path.join(TENSORS, n))
    for name, a in [("f32.npy", np.arange(6, dtype=np.float32).reshape(2, 3)), ("i64.npy", np.array([1, -2])),
                    ("f16.npy", np.array([1.5], np.float16)), ("bool.npy", np.array([[True], [False]])),
                    ("scalar.npy", np.array(3.0)), ("u_wide.npy", np.array(["a\u00e9\U0001f600", ""])),
                    ("s_bytes.npy", np.array([b"\xff\x00x", b"ab"])), ("empty.npy", np.zeros((0, 3), np.float64))]:
        np.save(os.path.join(TENSORS, name), a)
    pb("strings.pb", words("w", ["x", "\u00fc", "", "\xff"], [2, 2]))
    pb("floats.pb", numpy_helper.from_array(np.array([1.0, np.nan], np.float32), "f"))
    raw = numpy_helper.from_array(np.array([[1, 2]], np.int32), "r")
    pb("int32_raw.pb", raw)
    seq = onnx.SequenceProto(name="s", elem_type=onnx.SequenceProto.TENSOR)
    seq.tensor_values.extend([words("", ["a", "b"]), words("", ["c"])])
    pb("sequence_strings.pb", seq)
    opt = onnx.OptionalProto(name="o", elem_type=onnx.OptionalProto.TENSOR)
    opt.tensor_value.CopyFrom(words("", ["only"]))
    pb("optional_string.pb", opt)


os.makedirs(MODELS, exist_ok=True)
os.makedirs(TENSORS, exist_ok=True)
write_models()
write_dag_models()
copy_newer_opset_cases()
write_tensors()
