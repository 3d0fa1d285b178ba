# Writes text_features/: a small text model over string tensors (normalise words, count n-grams from a
# string pool, score them; read numbers written as text; move strings with Concat, Gather, Reshape, Where)
# and one test data set whose expected outputs are computed here in plain Python and NumPy, independently
# of any engine. Run with /usr/bin/python3 from this folder.
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

STOPWORDS = ["the", "a"]
POOL_1 = ["cat", "dog", "sat", "mat"]
POOL_2 = [("cat", "sat"), ("the", "mat"), ("sat", "on")]  # ("the", "mat") can never match: "the" is dropped
text = np.array(["The", "CAT", "sat", "ON", "the", "Mat", "a", "dog", "cat", "Sat"], dtype=object)
amounts = np.array(["1.5", " -2 ", "1e3", "INF"], dtype=object)
rng = np.random.default_rng(3)
weights = rng.standard_normal((len(POOL_1) + len(POOL_2), 3)).astype(np.float32)

g = helper.make_graph(
    [
        helper.make_node("StringNormalizer", ["text"], ["words"], name="normalize", case_change_action="LOWER",
                         is_case_sensitive=0, stopwords=STOPWORDS),
        helper.make_node("TfIdfVectorizer", ["words"], ["counts"], name="ngrams", mode="TF", min_gram_length=1,
                         max_gram_length=2, max_skip_count=0, ngram_counts=[0, len(POOL_1)],
                         ngram_indexes=list(range(len(POOL_1) + len(POOL_2))),
                         pool_strings=POOL_1 + [w for pair in POOL_2 for w in pair]),
        helper.make_node("Unsqueeze", ["counts", "zero"], ["row"], name="row"),
        helper.make_node("MatMul", ["row", "weights"], ["scores"], name="score"),
        helper.make_node("Concat", ["words", "words"], ["twice"], name="twice", axis=0),
        helper.make_node("Gather", ["words", "picks"], ["picked"], name="pick", axis=0),
        helper.make_node("Reshape", ["picked", "two_by"], ["grid"], name="grid"),
        helper.make_node("Cast", ["amounts"], ["values"], name="read", to=TensorProto.FLOAT),
        helper.make_node("Mul", ["values", "two"], ["doubled"], name="double"),
        helper.make_node("Cast", ["doubled"], ["doubled_text"], name="write", to=TensorProto.STRING),
        helper.make_node("Greater", ["values", "zero_f"], ["positive"], name="positive"),
        helper.make_node("Where", ["positive", "amounts", "none"], ["kept"], name="keep"),
    ],
    "text_features",
    [helper.make_tensor_value_info("text", TensorProto.STRING, [len(text)]),
     helper.make_tensor_value_info("amounts", TensorProto.STRING, [len(amounts)])],
    [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 3]),
     helper.make_tensor_value_info("twice", TensorProto.STRING, ["twice_length"]),
     helper.make_tensor_value_info("grid", TensorProto.STRING, [2, 2]),
     helper.make_tensor_value_info("doubled_text", TensorProto.STRING, [len(amounts)]),
     helper.make_tensor_value_info("kept", TensorProto.STRING, [len(amounts)])],
    [numpy_helper.from_array(np.array([0], dtype=np.int64), "zero"),
     numpy_helper.from_array(weights, "weights"),
     numpy_helper.from_array(np.array([3, 0, -1, 1], dtype=np.int64), "picks"),
     numpy_helper.from_array(np.array([2, 2], dtype=np.int64), "two_by"),
     numpy_helper.from_array(np.array(2.0, dtype=np.float32), "two"),
     numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero_f"),
     helper.make_tensor("none", TensorProto.STRING, [], [b"-"])],
)
model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="make_text_features.py")
onnx.checker.check_model(model)

# Expected outputs, by hand.
words = [w.lower() for w in text if w.lower() not in STOPWORDS]
counts = np.zeros(len(POOL_1) + len(POOL_2), dtype=np.float32)
for i, w in enumerate(POOL_1):
    counts[i] = sum(1 for x in words if x == w)
for j, pair in enumerate(POOL_2):
    counts[len(POOL_1) + j] = sum(1 for a, b in zip(words, words[1:]) if (a, b) == pair)
scores = (counts.astype(np.float64)[None, :] @ weights.astype(np.float64)).astype(np.float32)
twice = np.array(words + words, dtype=object)
picks = [3, 0, -1, 1]
grid = np.array([words[p] for p in picks], dtype=object).reshape(2, 2)
values = np.array([float(a) for a in amounts], dtype=np.float32)
doubled = values * np.float32(2)
def numpy_str(v):  # NumPy's str of a float32, with ONNX's names for infinities
    return "INF" if v == np.inf else "-INF" if v == -np.inf else str(np.float32(v))
doubled_text = np.array([numpy_str(v) for v in doubled], dtype=object)
kept = np.array([a if v > 0 else "-" for a, v in zip(amounts, values)], dtype=object)

os.makedirs("text_features/test_data_set_0", exist_ok=True)
onnx.save(model, "text_features/model.onnx")
def save(name, array, kind, i):
    t = numpy_helper.from_array(array, name) if array.dtype != object else helper.make_tensor(
        name, TensorProto.STRING, array.shape, [s.encode() for s in array.ravel()])
    with open("text_features/test_data_set_0/%s_%d.pb" % (kind, i), "wb") as f:
        f.write(t.SerializeToString())
save("text", text, "input", 0)
save("amounts", amounts, "input", 1)
for i, (name, a) in enumerate([("scores", scores), ("twice", twice), ("grid", grid), ("doubled_text", doubled_text),
                               ("kept", kept)]):
    save(name, a, "output", i)
print("words", words, "counts", counts, "doubled", doubled_text, "kept", kept)
