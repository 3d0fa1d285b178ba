// String tensors: Cast to and from strings (NumPy's float formatting, exact round trips on random values,
// every reading rule and refusal), StringNormalizer, TfIdfVectorizer's string pool against its integer
// pool, string constants, the ops that only pass strings on, and the refusal of ops that would copy them
// as bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <set>

#include "tests/support/model_builder.h"
#include "tests/support/single_op.h"

namespace tandem {
namespace {

using namespace tandem::test;
using Strings = std::vector<std::string>;

Strings strings_of(const Tensor& t) {
  EXPECT_EQ(t.dtype(), DType::kString);
  return values_of<std::string>(t);
}

Tensor cast(const Tensor& x, DType to) {
  return SingleOp(13, "Cast").in(x).attr("to", static_cast<int64_t>(to)).out({to});
}

TEST(CastStrings, FloatsPrintAsNumpyPrintsThem) {
  // Expected: str(np.float32(v)) and str(np.float64(v)) in NumPy 1.24, for each v.
  const F32 f = {0.1f,  1e-5f,     123456789.0f, 1e16f, -0.0f,     0.3f,       3.4028235e38f,
                 1e-4f, 9.999e-5f, 2.5f,         1.0f,  100000.0f, 0.00012345f};
  EXPECT_EQ(strings_of(cast(f32({13}, f), DType::kString)),
            (Strings{"0.1", "1e-05", "123456790.0", "1e+16", "-0.0", "0.3", "3.4028235e+38", "1e-04", "9.999e-05",
                     "2.5", "1.0", "100000.0", "0.00012345"}));
  const std::vector<double> d = {0.1, 123456789.0, 1e-4, 1e16, 0.00012345};
  EXPECT_EQ(strings_of(cast(make_tensor<double>({5}, d), DType::kString)),
            (Strings{"0.1", "123456789.0", "0.0001", "1e+16", "0.00012345"}));
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(strings_of(cast(f32({3}, {std::nanf(""), inf, -inf}), DType::kString)), (Strings{"NaN", "INF", "-INF"}));
}

// A float16's shortest digits are its own: NumPy prints float16(0.1) as "0.1", where the float32 holding the
// same value prints 0.099975586. Expected: np.array(v, dtype=np.float16).astype(str) in NumPy 1.24, from the
// values' float16 bits.
TEST(CastStrings, Float16PrintsItsOwnShortestDigits) {
  const std::vector<uint16_t> bits = {0x2e66, 0x3266, 0x3555, 0x7bff, 0x00a8, 0xc100,
                                      0x5640, 0x4248, 0x0001, 0x068e, 0x64d2};
  Tensor h = Tensor::empty(DType::kFloat16, {static_cast<int64_t>(bits.size())});
  std::copy(bits.begin(), bits.end(), h.data<uint16_t>());
  EXPECT_EQ(strings_of(cast(h, DType::kString)), (Strings{"0.1", "0.2", "0.3333", "65500.0", "1e-05", "-2.5",
                                                         "100.0", "3.14", "6e-08", "0.0001", "1234.0"}));
  // Each reads back to the same float16.
  const Tensor back = cast(cast(h, DType::kString), DType::kFloat16);
  EXPECT_TRUE(std::equal(bits.begin(), bits.end(), back.data<uint16_t>()));
}

TEST(CastStrings, IntegersAndBoolsPrintInDecimal) {
  EXPECT_EQ(strings_of(cast(i64({3}, {0, -9223372036854775807 - 1, 42}), DType::kString)),
            (Strings{"0", "-9223372036854775808", "42"}));
  EXPECT_EQ(strings_of(cast(make_tensor<uint8_t>({2}, {255, 7}), DType::kString)), (Strings{"255", "7"}));
  EXPECT_EQ(strings_of(cast(make_bool_tensor({2}, {true, false}), DType::kString)), (Strings{"1", "0"}));
}

// Random values of every magnitude, several shapes: the printed string reads back to the same bits.
TEST(CastStrings, RandomFloatsRoundTripExactly) {
  std::mt19937 rng(7);
  for (const I64& shape : {I64{1}, I64{3, 5}, I64{2, 3, 17}}) {
    const auto n = static_cast<std::size_t>(shape_numel(shape));
    F32 f(n);
    std::vector<double> d(n);
    for (std::size_t i = 0; i < n; ++i) {
      uint32_t bits;
      do bits = static_cast<uint32_t>(rng());
      while (std::isnan(std::bit_cast<float>(bits)));
      f[i] = std::bit_cast<float>(bits);
      const uint64_t hi = static_cast<uint64_t>(rng()) << 32 | rng();
      d[i] = std::isnan(std::bit_cast<double>(hi)) ? 1.5 : std::bit_cast<double>(hi);
    }
    const Tensor fs = cast(f32(shape, f), DType::kString), ds = cast(make_tensor<double>(shape, d), DType::kString);
    EXPECT_EQ(fs.shape(), shape);
    const F32 f_back = values_of<float>(cast(fs, DType::kFloat32));
    const std::vector<double> d_back = values_of<double>(cast(ds, DType::kFloat64));
    for (std::size_t i = 0; i < n; ++i) {
      EXPECT_EQ(std::bit_cast<uint32_t>(f_back[i]), std::bit_cast<uint32_t>(f[i])) << strings_of(fs)[i];
      EXPECT_EQ(std::bit_cast<uint64_t>(d_back[i]), std::bit_cast<uint64_t>(d[i])) << strings_of(ds)[i];
    }
  }
}

TEST(CastStrings, StringsReadAsNumbers) {
  const Tensor words = strs({8}, {" +1.5e3 ", "INF", "-inf", "nan", "Infinity", "-0.25", "1E-2", "7"});
  const F32 f = values_of<float>(cast(words, DType::kFloat32));
  EXPECT_EQ(f[0], 1500.0f);
  EXPECT_EQ(f[1], std::numeric_limits<float>::infinity());
  EXPECT_EQ(f[2], -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(f[3]));
  EXPECT_EQ(f[4], std::numeric_limits<float>::infinity());
  EXPECT_EQ(f[5], -0.25f);
  EXPECT_EQ(f[6], 0.01f);
  EXPECT_EQ(f[7], 7.0f);
  // Past float's range: infinity and zero, as strtof gives them.
  const F32 g = values_of<float>(cast(strs({2}, {"1e50", "1e-50"}), DType::kFloat32));
  EXPECT_EQ(g[0], std::numeric_limits<float>::infinity());
  EXPECT_EQ(g[1], 0.0f);
  // Integers: a float truncates ("100.5" gives 100, the spec's example); integer literals are exact and wrap
  // into narrower types as Cast from int64 does; beyond 64 bits they saturate as floats do.
  EXPECT_EQ(
      values_of<int64_t>(cast(strs({4}, {"100.5", "-7", "9007199254740993", "99999999999999999999"}), DType::kInt64)),
      (I64{100, -7, 9007199254740993, std::numeric_limits<int64_t>::max()}));
  EXPECT_EQ(values_of<uint8_t>(cast(strs({2}, {"300", "-1"}), DType::kUInt8)), (std::vector<uint8_t>{44, 255}));
  EXPECT_EQ(values_of<uint8_t>(cast(strs({5}, {"true", "FALSE", "0", "2", "0.0"}), DType::kBool)),
            (std::vector<uint8_t>{1, 0, 0, 1, 0}));
}

TEST(CastStrings, WhatIsNotANumberIsRefusedByElement) {
  for (const std::string bad : {"hello", "", "1.5x", "+-1", "--1", "0x10", "1 2"}) {
    auto r = SingleOp(13, "Cast").in(strs({2}, {"1", bad})).attr("to", int64_t{1}).run({DType::kFloat32});
    expect_error(r, "node 'n' (Cast): element 1, \"" + bad + "\", is not a number (casting to float32)");
  }
  auto r = SingleOp(13, "Cast").in(strs({1}, {"yes"})).attr("to", int64_t{9}).run({DType::kBool});
  expect_error(r, "element 0, \"yes\", is not a bool (true, false or a number)");
}

// Found by the structural fuzzer: the element went into the message as it was, so a newline in it broke
// the CLI's one-line error, and the cut at 64 bytes could split a UTF-8 character.
TEST(CastStrings, TheRefusedElementIsShownEscapedOnOneLine) {
  auto r = SingleOp(13, "Cast").in(strs({1}, {"\t1\n-NaN \"x\" \\ \x01\xff"})).attr("to", int64_t{10}).run({DType::kFloat16});
  expect_error(r, "element 0, \"\\t1\\n-NaN \\\"x\\\" \\\\ \\x01\\xff\", is not a number (casting to float16)");
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos) << r.status().message();
  // "a" and 70 two-byte characters: the cut at 64 bytes split the 32nd; now 64 characters are shown whole.
  std::string long_text = "a";
  for (int i = 0; i < 70; ++i) long_text += "\u00e9";
  auto l = SingleOp(13, "Cast").in(strs({1}, {long_text})).attr("to", int64_t{1}).run({DType::kFloat32});
  std::string shown = "a";
  for (int i = 0; i < 63; ++i) shown += "\u00e9";
  expect_error(l, "element 0, \"" + shown + "\"..., is not a number");
}

TEST(CastStrings, CastLikeTakesTheTypeOfAStringTensor) {
  const Tensor y = SingleOp(15, "CastLike").in(i64({2}, {3, -4})).in(strs({1}, {"x"})).out({DType::kString});
  EXPECT_EQ(strings_of(y), (Strings{"3", "-4"}));
  const Tensor z = SingleOp(15, "CastLike").in(strs({2}, {"3", "-4"})).in(i32({1}, {0})).out({DType::kInt32});
  EXPECT_EQ(values_of<int32_t>(z), (std::vector<int32_t>{3, -4}));
}

SingleOp normalizer(const Tensor& x, const std::string& action, int64_t sensitive, const Strings& stopwords) {
  SingleOp op(10, "StringNormalizer");
  // ONNX's shape inference wants [1, C] spelled out; [C] stays symbolic so the kernel's checks answer.
  if (x.rank() == 2)
    op.fixed_in(x);
  else
    op.in(x);
  op.attr("case_change_action", action).attr("is_case_sensitive", sensitive);
  if (!stopwords.empty()) op.attr("stopwords", stopwords);
  return op;
}

TEST(StringNormalizer, DropsStopwordsThenChangesCase) {
  const Tensor x = strs({5}, {"Monday", "tuesday", "MONDAY", "École", "straße"});
  // Not case sensitive: every spelling of "monday" goes; the rest change case by Unicode's mapping.
  EXPECT_EQ(strings_of(normalizer(x, "LOWER", 0, {"monday"}).out()), (Strings{"tuesday", "école", "straße"}));
  // ß has no one-code-point capital in Unicode's simple mapping (UnicodeData.txt), so it stays.
  EXPECT_EQ(strings_of(normalizer(x, "UPPER", 0, {"MonDay"}).out()), (Strings{"TUESDAY", "ÉCOLE", "STRAßE"}));
  // Case sensitive: only the exact spelling goes; NONE leaves the bytes alone.
  EXPECT_EQ(strings_of(normalizer(x, "NONE", 1, {"MONDAY"}).out()), (Strings{"Monday", "tuesday", "École", "straße"}));
  // No stopwords at all.
  EXPECT_EQ(strings_of(normalizer(x, "NONE", 1, {}).out()), strings_of(x));
}

TEST(StringNormalizer, UpperCaseFollowsUnicode) {
  const Tensor y = normalizer(strs({3}, {"école", "ñandú", "δ"}), "UPPER", 1, {}).out();
  EXPECT_EQ(strings_of(y), (Strings{"ÉCOLE", "ÑANDÚ", "Δ"}));
}

TEST(StringNormalizer, KeepsTheRankAndGivesOneEmptyStringWhenAllGo) {
  const Tensor two = normalizer(strs({1, 3}, {"a", "b", "a"}), "NONE", 1, {"a"}).out();
  EXPECT_EQ(two.shape(), (I64{1, 1}));
  EXPECT_EQ(strings_of(two), (Strings{"b"}));
  const Tensor none = normalizer(strs({1, 2}, {"a", "A"}), "NONE", 0, {"a"}).out();
  EXPECT_EQ(none.shape(), (I64{1, 1}));
  EXPECT_EQ(strings_of(none), (Strings{""}));
  const Tensor flat = normalizer(strs({2}, {"a", "a"}), "NONE", 1, {"a"}).out();
  EXPECT_EQ(flat.shape(), (I64{1}));
}

TEST(StringNormalizer, RefusesBadShapesAttributesLocalesAndBytes) {
  expect_error(SingleOp(10, "StringNormalizer").unranked(strs({2, 2}, {"a", "b", "c", "d"})).run(),
               "X must be [C] or [1, C], got string [2,2]");
  expect_error(normalizer(strs({1}, {"a"}), "TITLE", 1, {}).run(), "case_change_action must be LOWER, UPPER or NONE");
  expect_error(normalizer(strs({1}, {"a"}), "NONE", 2, {}).run(), "is_case_sensitive must be 0 or 1");
  expect_error(normalizer(strs({1}, {"a"}), "UPPER", 1, {}).attr("locale", "tr_TR").run(),
               "locale 'tr_TR' is not installed on this machine");
  expect_error(normalizer(strs({2}, {"ok", std::string("\xff\xfe", 2)}), "UPPER", 1, {}).run(),
               "X element 1 is not valid UTF-8");
}

// A random string pool against the same pool numbered as integers: the counts must agree, row for row.
TEST(TfIdfVectorizerStrings, AStringPoolCountsAsTheSamePoolOfNumbers) {
  std::mt19937 rng(11);
  const Strings words = {"the", "cat", "sat", "on", "mat", "a", "dog", "ran"};
  for (int trial = 0; trial < 20; ++trial) {
    // Pool: 4 distinct 1-grams and 3 distinct 2-grams over word ids.
    std::vector<int64_t> unigrams = {0, 1, 2, 3, 4, 5, 6, 7};
    std::shuffle(unigrams.begin(), unigrams.end(), rng);
    I64 pool(unigrams.begin(), unigrams.begin() + 4);
    std::set<std::pair<int64_t, int64_t>> bigrams;
    while (bigrams.size() < 3) bigrams.emplace(rng() % 8, rng() % 8);
    for (auto [a, b] : bigrams) pool.insert(pool.end(), {a, b});
    Strings pool_strings;
    for (int64_t id : pool) pool_strings.push_back(words[static_cast<std::size_t>(id)]);
    const int64_t rows = 1 + trial % 3, cols = 3 + trial % 5;
    I64 ids(static_cast<std::size_t>(rows * cols));
    Strings text;
    for (int64_t& id : ids) {
      id = rng() % 9;  // 8: a word not in the pool
      text.push_back(id == 8 ? "unknown" : words[static_cast<std::size_t>(id)]);
    }
    auto with = [&](SingleOp op) {
      op.attr("mode", "TF")
          .attr("min_gram_length", int64_t{1})
          .attr("max_gram_length", int64_t{2})
          .attr("max_skip_count", int64_t{trial % 3})
          .attr("ngram_counts", I64{0, 4})
          .attr("ngram_indexes", I64{0, 1, 2, 3, 4, 5, 6});
      return op;
    };
    const Tensor by_ids = with(SingleOp(9, "TfIdfVectorizer").in(i64({rows, cols}, ids)).attr("pool_int64s", pool))
                              .out({DType::kFloat32});
    const Tensor by_text =
        with(SingleOp(9, "TfIdfVectorizer").in(strs({rows, cols}, text)).attr("pool_strings", pool_strings))
            .out({DType::kFloat32});
    EXPECT_EQ(values_of<float>(by_text), values_of<float>(by_ids)) << "trial " << trial;
  }
}

TEST(TfIdfVectorizerStrings, InputMustMatchThePool) {
  SingleOp op(9, "TfIdfVectorizer");
  op.in(i64({2}, {1, 2}))
      .attr("mode", "TF")
      .attr("min_gram_length", int64_t{1})
      .attr("max_gram_length", int64_t{1})
      .attr("max_skip_count", int64_t{0})
      .attr("ngram_counts", I64{0})
      .attr("ngram_indexes", I64{0})
      .attr("pool_strings", Strings{"a"});
  expect_error(op.run({DType::kFloat32}), "X must be a string tensor (the pool is pool_strings), got int64 [2]");
  op.attr("pool_int64s", I64{1});
  expect_error(op.run({DType::kFloat32}), "pool_strings and pool_int64s are both given");
}

TEST(StringTensors, ShapeOpsPassStringsOn) {
  const Tensor x = strs({2, 3}, {"a", "b", "c", "d", "e", "f"});
  const Tensor r = SingleOp(14, "Reshape").in(x).constant(I64{3, 2}).out();
  EXPECT_EQ(r.shape(), (I64{3, 2}));
  EXPECT_EQ(strings_of(r), strings_of(x));
  EXPECT_EQ(strings_of(SingleOp(13, "Identity").in(x).out()), strings_of(x));
  EXPECT_EQ(SingleOp(13, "Flatten").in(x).attr("axis", int64_t{0}).out().shape(), (I64{1, 6}));
  EXPECT_EQ(SingleOp(13, "Unsqueeze").in(x).constant(I64{0}).out().shape(), (I64{1, 2, 3}));
  expect_i64(SingleOp(15, "Shape").in(x).out({DType::kInt64}), {2}, {2, 3});
  expect_i64(SingleOp(13, "Size").in(x).out({DType::kInt64}), {}, {6});
}

TEST(StringTensors, StringConstantsAndInitializers) {
  auto m = make_model(13);
  auto& g = *m.mutable_graph();
  onnx::NodeProto* c = add_node(g, "Constant", {}, {"words"}, "c");
  auto* a = c->add_attribute();
  a->set_name("value_strings");
  a->set_type(onnx::AttributeProto::STRINGS);
  for (const char* w : {"1.5", "-2"}) a->add_strings(w);
  onnx::NodeProto* k = add_node(g, "Cast", {"words"}, {"y"}, "k");
  set_int(k, "to", onnx::TensorProto::FLOAT);
  add_output(g, "y", onnx::TensorProto::FLOAT);
  auto r = run_on_cpu(m, {});
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ(values_of<float>((*r)[0]), (F32{1.5f, -2.0f}));

  const Tensor y =
      SingleOp(13, "Cast").constant(strs({2}, {"4", "5.5"})).attr("to", int64_t{11}).out({DType::kFloat64});
  EXPECT_EQ(values_of<double>(y), (std::vector<double>{4.0, 5.5}));
}

// The ops that move elements, on strings: each runs on random int64 data and on the same data spelled as
// strings (0 as "", v as "w%03d", so that string order is number order and "" is the zero Pad, Trilu and
// NonZero know); the string results must spell the int64 results, element for element.
std::string spelled(int64_t v) {
  if (v == 0) return "";
  char buf[16];
  std::snprintf(buf, sizeof buf, "w%03lld", static_cast<long long>(v));
  return buf;
}

Tensor spelled(const Tensor& ints) {
  Strings out;
  for (int64_t v : values_of<int64_t>(ints)) out.push_back(spelled(v));
  return strs(ints.shape(), out);
}

struct MoverCase {
  std::string name;
  std::function<SingleOp(const Tensor& data)> op;  // the node with `data` as its string or int64 input
  DType out = DType::kUndefined;                   // output 0's type when it is not the data's
};

TEST(StringTensors, ElementMoversGiveTheSameElementsAsForNumbers) {
  std::mt19937 rng(5);
  auto random_ints = [&](I64 shape, int64_t zeros_every = 4) {
    I64 v(static_cast<std::size_t>(shape_numel(shape)));
    for (int64_t& x : v) x = rng() % zeros_every == 0 ? 0 : 1 + static_cast<int64_t>(rng() % 40);
    return i64(std::move(shape), v);
  };
  const Tensor cond =
      make_bool_tensor({3, 4}, {true, false, true, true, false, false, true, false, true, true, false, true});
  const Tensor other = random_ints({3, 4});
  const std::vector<MoverCase> cases = {
      {"Transpose",
       [](const Tensor& d) {
         return SingleOp(13, "Transpose").in(d).attr("perm", I64{2, 0, 1});
       }},
      {"Expand",
       [](const Tensor& d) {
         return SingleOp(13, "Expand").in(d).constant(I64{2, 1, 3, 4});
       }},
      {"Tile",
       [](const Tensor& d) {
         return SingleOp(13, "Tile").in(d).constant(I64{2, 1, 3});
       }},
      {"Concat", [](const Tensor& d) { return SingleOp(13, "Concat").in(d).in(d).attr("axis", int64_t{1}); }},
      {"Split",
       [](const Tensor& d) {
         return SingleOp(13, "Split", 2).in(d).constant(I64{1, 2}).attr("axis", int64_t{1});
       }},
      {"Gather",
       [](const Tensor& d) {
         return SingleOp(13, "Gather").in(d).in(i64({2, 2}, {2, 0, -1, 1})).attr("axis", int64_t{1});
       }},
      {"Slice",
       [](const Tensor& d) {
         return SingleOp(13, "Slice")
             .in(d)
             .constant(I64{2, 0})
             .constant(I64{-10, 4})
             .constant(I64{1, 2})
             .constant(I64{-1, 1});
       }},
      {"Pad",
       [](const Tensor& d) {
         return SingleOp(13, "Pad").in(d).constant(I64{0, 1, 2, 1, 0, 1});
       }},
      {"GatherElements",
       [](const Tensor& d) {
         return SingleOp(13, "GatherElements").in(d).in(i64({2, 3, 4}, I64(24, 2))).attr("axis", int64_t{1});
       }},
      {"GatherND",
       [](const Tensor& d) {
         return SingleOp(13, "GatherND").in(d).in(i64({2, 2}, {1, 2, 0, 0}));
       }},
      {"ScatterElements",
       [](const Tensor& d) {
         return SingleOp(13, "ScatterElements")
             .in(d)
             .in(i64({2, 1, 4}, I64(8, 1)))
             .in(d.dtype() == DType::kString ? spelled(i64({2, 1, 4}, I64{9, 8, 7, 6, 5, 4, 3, 2}))
                                             : i64({2, 1, 4}, I64{9, 8, 7, 6, 5, 4, 3, 2}))
             .attr("axis", int64_t{1});
       }},
      {"Compress",
       [](const Tensor& d) {
         return SingleOp(13, "Compress").in(d).in(make_bool_tensor({3}, {true, false, true})).attr("axis", int64_t{1});
       }},
      {"Unique", [](const Tensor& d) { return SingleOp(11, "Unique").in(d).attr("sorted", int64_t{1}); }},
      {"ReverseSequence",
       [](const Tensor& d) {
         return SingleOp(10, "ReverseSequence")
             .in(d)
             .in(i64({3}, {2, 1, 3}))
             .attr("batch_axis", int64_t{1})
             .attr("time_axis", int64_t{0});
       }},
      {"DepthToSpace",
       [](const Tensor& d) { return SingleOp(13, "DepthToSpace").in(d).attr("blocksize", int64_t{2}); }},
      {"Trilu", [](const Tensor& d) { return SingleOp(14, "Trilu").in(d).attr("upper", int64_t{0}); }},
      {"Where",
       [&](const Tensor& d) {
         return SingleOp(16, "Where").in(cond).in(d).in(d.dtype() == DType::kString ? spelled(other) : other);
       }},
      {"NonZero", [](const Tensor& d) { return SingleOp(13, "NonZero").in(d); }, DType::kInt64},
  };
  const std::map<std::string, I64> shapes = {{"DepthToSpace", {1, 4, 2, 3}},
                                             {"Unique", {20}},
                                             {"Where", {3, 4}},
                                             {"ReverseSequence", {3, 3, 2}},
                                             {"GatherND", {3, 4, 2}}};
  for (const MoverCase& c : cases) {
    const I64 shape = shapes.count(c.name) ? shapes.at(c.name) : I64{2, 3, 4};
    const Tensor ints = random_ints(shape, c.name == "Unique" ? 3 : 4);
    const std::vector<DType> int_types(2, c.out == DType::kUndefined ? DType::kInt64 : c.out);
    const std::vector<DType> string_types(2, c.out == DType::kUndefined ? DType::kString : c.out);
    auto want = c.op(ints).run(int_types);
    auto got = c.op(spelled(ints)).run(string_types);
    ASSERT_TRUE(want) << c.name << ": " << want.status().message();
    ASSERT_TRUE(got) << c.name << ": " << got.status().message();
    ASSERT_EQ(got->size(), want->size()) << c.name;
    for (std::size_t k = 0; k < want->size(); ++k) {
      const Tensor& w = (*want)[k];
      const Tensor& g = (*got)[k];
      EXPECT_EQ(g.shape(), w.shape()) << c.name << " output " << k;
      if (w.dtype() == DType::kInt64 && g.dtype() == DType::kString)
        EXPECT_EQ(strings_of(g), strings_of(spelled(w))) << c.name << " output " << k;
      else
        EXPECT_EQ(values_of<int64_t>(g), values_of<int64_t>(w)) << c.name << " output " << k;
    }
  }
}

// Found while fuzzing: a string tensor beyond memory (Expand to [2^19, 2^20], 2^39 std::string objects) was
// made with a throwing new[], so it failed as a bare "std::bad_alloc" (an abort under AddressSanitizer)
// where a number tensor's failure names its size and shape.
TEST(StringTensors, AStringTensorBeyondMemoryIsAnErrorNamingItsSize) {
  std::ifstream overcommit("/proc/sys/vm/overcommit_memory");
  int mode = 0;
  if (overcommit >> mode && mode == 1) GTEST_SKIP() << "vm.overcommit_memory=1 would grant the 16 TiB";
  auto r = SingleOp(13, "Expand").in(strs({}, {"x"})).constant(I64{1 << 19, 1 << 20}).run({DType::kString});
  expect_error(r, "cannot allocate 17592186044416 bytes for a string [524288,1048576] tensor");
}

// Found by the fuzzer under UBSan: a constant with no elements had a null data pointer (an empty vector's
// data()), which no other tensor has, and Split offset it by each part's bytes (undefined behaviour). The
// test checks the outputs; what it guards against shows in a TANDEM_SANITIZE=undefined build.
TEST(StringTensors, SplitOfAnEmptyConstantGivesEmptyParts) {
  for (const Tensor& x : {strs({0, 1, 4}, {}), Tensor::zeros(DType::kFloat32, {0, 1, 4})}) {
    SCOPED_TRACE(x.describe());
    auto r = SingleOp(13, "Split", 2).constant(x).constant(I64{1, 3}).attr("axis", int64_t{2}).run({x.dtype(), x.dtype()});
    ASSERT_TRUE(r) << r.status().message();
    EXPECT_EQ((*r)[0].shape(), (I64{0, 1, 1}));
    EXPECT_EQ((*r)[1].shape(), (I64{0, 1, 3}));
  }
}

TEST(StringTensors, KernelsThatCannotHoldStringsRefuseThem) {
  const Tensor x = strs({2}, {"a", "b"});
  // ONNX lets Resize take strings; tandem's interpolating kernel does not, and says so before running.
  expect_error(SingleOp(13, "Resize").in(x).skip().constant(f32({1}, {2.0f})).run(),
               "Resize does not take string tensors");
  expect_error(
      SingleOp(16, "ScatterElements").in(x).in(i64({1}, {0})).in(strs({1}, {"c"})).attr("reduction", "add").run(),
      "a reduction over string is not supported");
}

}  // namespace
}  // namespace tandem

namespace tandem {
namespace {

using namespace tandem::test;
using Strings = std::vector<std::string>;

// Scan over a string X [2, 3] along `axis`: the state becomes each slice in turn (a Concat of the slice
// with nothing, so the body moves strings), and each slice is stacked again as the scan output.
Result<std::vector<Tensor>> string_scan(int64_t axis, int64_t direction) {
  auto m = make_model(11);
  auto& g = *m.mutable_graph();
  const int64_t width = axis == 0 ? 3 : 2;
  add_input(g, "s0", onnx::TensorProto::STRING, {width});
  add_input(g, "X", onnx::TensorProto::STRING, {int64_t{2}, int64_t{3}});
  auto* n = add_node(g, "Scan", {"s0", "X"}, {"s", "Y"}, "scan");
  set_int(n, "num_scan_inputs", 1);
  set_ints(n, "scan_input_axes", {axis});
  set_ints(n, "scan_input_directions", {direction});
  auto* b = set_graph(n, "body");
  b->set_name("pass_on");
  add_input(*b, "s_in", onnx::TensorProto::STRING, {width});
  add_input(*b, "x_t", onnx::TensorProto::STRING, {width});
  auto* c = add_node(*b, "Concat", {"x_t"}, {"s_out"});
  set_int(c, "axis", 0);
  add_node(*b, "Identity", {"x_t"}, {"y_t"});
  add_output(*b, "s_out", onnx::TensorProto::STRING);
  add_output(*b, "y_t", onnx::TensorProto::STRING);
  add_output(g, "s", onnx::TensorProto::STRING);
  add_output(g, "Y", onnx::TensorProto::STRING);
  return run_on_cpu(m, {make_string_tensor({width}, Strings(static_cast<std::size_t>(width), "start")),
                        make_string_tensor({2, 3}, {"a", "b", "c", "d", "e", "f"})});
}

TEST(StringTensors, ScanSlicesAndStacksStrings) {
  auto rows = string_scan(0, 0);
  ASSERT_TRUE(rows) << rows.status().message();
  EXPECT_EQ(values_of<std::string>((*rows)[0]), (Strings{"d", "e", "f"}));
  EXPECT_EQ(values_of<std::string>((*rows)[1]), (Strings{"a", "b", "c", "d", "e", "f"}));
  // Along axis 1 (slices copied, not viewed), backwards: the last state is the first column.
  auto columns = string_scan(1, 1);
  ASSERT_TRUE(columns) << columns.status().message();
  EXPECT_EQ(values_of<std::string>((*columns)[0]), (Strings{"a", "d"}));
  EXPECT_EQ((*columns)[1].shape(), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(values_of<std::string>((*columns)[1]), (Strings{"c", "f", "b", "e", "a", "d"}));
}

TEST(StringTensors, SequencesOfStrings) {
  auto m = make_model(17);
  auto& g = *m.mutable_graph();
  add_input(g, "x", onnx::TensorProto::STRING, {int64_t{2}, int64_t{3}});
  auto* split = add_node(g, "SplitToSequence", {"x"}, {"columns"}, "split");
  set_int(split, "axis", 1);
  add_int64_initializer(g, "last", {}, {-1});
  add_node(g, "SequenceAt", {"columns", "last"}, {"column"}, "at");
  auto* join = add_node(g, "ConcatFromSequence", {"columns"}, {"joined"}, "join");
  set_int(join, "axis", 0);
  add_output(g, "column", onnx::TensorProto::STRING);
  add_output(g, "joined", onnx::TensorProto::STRING);
  auto r = run_on_cpu(m, {make_string_tensor({2, 3}, {"a", "b", "c", "d", "e", "f"})});
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ(values_of<std::string>((*r)[0]), (Strings{"c", "f"}));
  EXPECT_EQ((*r)[1].shape(), (std::vector<int64_t>{6, 1}));
  EXPECT_EQ(values_of<std::string>((*r)[1]), (Strings{"a", "d", "b", "e", "c", "f"}));
}

}  // namespace
}  // namespace tandem
