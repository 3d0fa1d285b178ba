// String tensors at the edges: .npy files NumPy wrote ('<U' Unicode, '|S' bytes) read as UTF-8 strings,
// tandem's own .npy of the same array byte for byte what NumPy writes, object arrays refused, and string
// inputs and outputs through the public API (one CPU device, and a plan over two).
#include <gtest/gtest.h>
#include <tandem/tandem.h>

#include <fstream>
#include <sstream>

#include "session/tensor_io.h"
#include "tests/support/model_builder.h"

namespace tandem {
namespace {

using Strings = std::vector<std::string>;

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Strings strings_of(const Tensor& t) {
  EXPECT_EQ(t.dtype(), DType::kString);
  return Strings(t.data<std::string>(), t.data<std::string>() + t.numel());
}

Tensor string_tensor(std::vector<int64_t> shape, const Strings& values) {
  Tensor t = Tensor::empty(DType::kString, std::move(shape));
  std::copy(values.begin(), values.end(), t.data<std::string>());
  return t;
}

TEST(StringNpy, NumpysUnicodeArraysReadAsUtf8) {
  auto t = read_tensor_file(test::source_path("tests/data/strings/words_u.npy"));
  ASSERT_TRUE(t) << t.status().message();
  EXPECT_EQ(t->tensor.shape(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(strings_of(t->tensor), (Strings{"héllo", "a", "", "ß€😀"}));
}

TEST(StringNpy, NumpysBytesArraysKeepTheirBytes) {
  auto t = read_tensor_file(test::source_path("tests/data/strings/bytes_s.npy"));
  ASSERT_TRUE(t) << t.status().message();
  EXPECT_EQ(strings_of(t->tensor), (Strings{"ab", std::string("\xff\x00z", 3), ""}));
}

TEST(StringNpy, ObjectArraysAreRefusedWithTheWayOut) {
  auto t = read_tensor_file(test::source_path("tests/data/strings/objects.npy"));
  ASSERT_FALSE(t);
  EXPECT_NE(t.status().message().find("np.save(f, a.astype(str))"), std::string::npos) << t.status().message();
}

TEST(StringNpy, WhatTandemWritesIsWhatNumpyWrites) {
  test::TempDir tmp;
  const std::string u = (tmp.path() / "u.npy").string(), s = (tmp.path() / "s.npy").string();
  ASSERT_TRUE(write_npy(u, string_tensor({2, 2}, {"héllo", "a", "", "ß€😀"})));
  EXPECT_EQ(file_bytes(u), file_bytes(test::source_path("tests/data/strings/words_u.npy")));
  // Not UTF-8: written as bytes, as NumPy keeps bytes.
  ASSERT_TRUE(write_npy(s, string_tensor({3}, {"ab", std::string("\xff\x00z", 3), ""})));
  EXPECT_EQ(file_bytes(s), file_bytes(test::source_path("tests/data/strings/bytes_s.npy")));
}

TEST(StringNpy, ACorruptHeaderOrCodePointIsRefused) {
  test::TempDir tmp;
  std::string bytes = file_bytes(test::source_path("tests/data/strings/words_u.npy"));
  const std::string truncated = tmp.write("t.npy", bytes.substr(0, bytes.size() - 4));
  auto t = read_tensor_file(truncated);
  ASSERT_FALSE(t);
  EXPECT_NE(t.status().message().find("needs 80 for '<U5'"), std::string::npos) << t.status().message();
  // The first element's first code point set to 0x110000, past Unicode.
  const std::size_t data_at = bytes.size() - 80;
  bytes[data_at] = 0, bytes[data_at + 1] = 0, bytes[data_at + 2] = 0x11, bytes[data_at + 3] = 0;
  auto c = read_tensor_file(tmp.write("c.npy", bytes));
  ASSERT_FALSE(c);
  EXPECT_NE(c.status().message().find("element 0 holds 1114112, which is not a Unicode code point"), std::string::npos)
      << c.status().message();
}

// An .npy of `descr` and `shape` (NumPy's header text) followed by `data`.
std::string npy_file(const std::string& descr, const std::string& shape, const std::string& data) {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  header.append(63 - (10 + header.size()) % 64, ' ');
  header += '\n';
  return std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size() & 0xff) +
         static_cast<char>(header.size() >> 8) + header + data;
}

// Found by the fuzzer: zero-width strings take no bytes of data, so a 128-byte file's header asked for a
// billion std::string objects (32 GB; an out-of-memory abort under AddressSanitizer).
TEST(StringNpy, ZeroWidthStringsAreRefusedBeforeAnyAllocation) {
  test::TempDir tmp;
  auto t = read_tensor_file(tmp.write("u0.npy", npy_file("<U0", "(1000000000,)", "")));
  ASSERT_FALSE(t);
  EXPECT_NE(t.status().message().find("u0.npy': .npy element type '<U0' has zero width: its 1000000000 strings"),
            std::string::npos)
      << t.status().message();
  ASSERT_FALSE(read_tensor_file(tmp.write("s0.npy", npy_file("|S0", "(2,)", ""))));
  // No elements: nothing to make, and nothing lost.
  auto empty = read_tensor_file(tmp.write("e.npy", npy_file("<U0", "(0, 3)", "")));
  ASSERT_TRUE(empty) << empty.status().message();
  EXPECT_EQ(empty->tensor.shape(), (std::vector<int64_t>{0, 3}));
}

// Found by the fuzzer: each item of the shape was read with stoll, which stops at the first character that
// is no digit, so "(2]5,)" read as (2,) and the file as a float32 [2].
TEST(StringNpy, AShapeItemThatIsNotANumberIsRefused) {
  test::TempDir tmp;
  const std::string two_floats(8, '\0');
  auto t = read_tensor_file(tmp.write("g.npy", npy_file("<f4", "(2]5,)", two_floats)));
  ASSERT_FALSE(t);
  EXPECT_NE(t.status().message().find(".npy shape (2]5,) is invalid"), std::string::npos) << t.status().message();
  auto ok = read_tensor_file(tmp.write("ok.npy", npy_file("<f4", "( 2 ,)", two_floats)));
  ASSERT_TRUE(ok) << ok.status().message();
  EXPECT_EQ(ok->tensor.shape(), (std::vector<int64_t>{2}));
  auto py2 = read_tensor_file(tmp.write("py2.npy", npy_file("<f4", "(1L, 2L)", two_floats)));  // Python 2's longs
  ASSERT_TRUE(py2) << py2.status().message();
  EXPECT_EQ(py2->tensor.shape(), (std::vector<int64_t>{1, 2}));
}

// Found with the fuzz harness's .npy round trip: a header longer than 65535 bytes (here a shape of 25,000
// dimensions) had its length cut to the 2 bytes of format version 1.0, so the file read back as garbage
// ("header has no 'shape'"). NumPy writes such headers as version 2.0, and so does tandem now.
TEST(StringNpy, AHeaderBeyond64KiBIsWrittenAsVersion2) {
  test::TempDir tmp;
  const std::string path = (tmp.path() / "deep.npy").string();
  for (DType dtype : {DType::kFloat32, DType::kString}) {
    Tensor t = dtype == DType::kString ? string_tensor(std::vector<int64_t>(25000, 1), {"x"})
                                       : Tensor::zeros(DType::kFloat32, std::vector<int64_t>(25000, 1));
    ASSERT_TRUE(write_npy(path, t));
    const std::string bytes = file_bytes(path);
    EXPECT_EQ(bytes[6], '\x02');
    EXPECT_EQ((bytes.size() - 4) % 64, 0u);  // one element of 4 bytes ('<f4' or '<U1'), 64-byte aligned
    auto back = read_tensor_file(path);
    ASSERT_TRUE(back) << back.status().message();
    EXPECT_EQ(back->tensor.dtype(), dtype);
    EXPECT_EQ(back->tensor.shape(), t.shape());
  }
  // A short header stays version 1.0.
  ASSERT_TRUE(write_npy(path, string_tensor({1}, {"x"})));
  EXPECT_EQ(file_bytes(path)[6], '\x01');
}

// words (string [n]) -> upper (StringNormalizer UPPER), numbers (Cast to float), again (numbers back to string).
std::string string_model() {
  onnx::ModelProto m = test::make_model(17);
  auto& g = *m.mutable_graph();
  test::add_input(g, "words", onnx::TensorProto::STRING, {"n"});
  onnx::NodeProto* up = test::add_node(g, "StringNormalizer", {"words"}, {"upper"}, "up");
  test::set_string(up, "case_change_action", "UPPER");
  onnx::NodeProto* to_float = test::add_node(g, "Cast", {"words"}, {"numbers"}, "to_float");
  test::set_int(to_float, "to", onnx::TensorProto::FLOAT);
  onnx::NodeProto* back = test::add_node(g, "Cast", {"numbers"}, {"again"}, "back");
  test::set_int(back, "to", onnx::TensorProto::STRING);
  test::add_output(g, "upper", onnx::TensorProto::STRING);
  test::add_output(g, "numbers", onnx::TensorProto::FLOAT);
  test::add_output(g, "again", onnx::TensorProto::STRING);
  return m.SerializeAsString();
}

void expect_string_model_outputs(const Session& session) {
  const HostTensor words = HostTensor::of<std::string>({3}, {"1.5", "-2", "1e3"});
  for (int run = 0; run < 3; ++run) {  // a plan's memory is laid out on the first run and reused after
    auto out = session.run({{"words", words}});
    const HostTensor& upper = out.at("upper");
    ASSERT_EQ(upper.type(), ElementType::kString);
    EXPECT_EQ(Strings(upper.data<std::string>(), upper.data<std::string>() + 3), (Strings{"1.5", "-2", "1E3"}));
    const HostTensor& numbers = out.at("numbers");
    EXPECT_EQ(std::vector<float>(numbers.data<float>(), numbers.data<float>() + 3),
              (std::vector<float>{1.5f, -2.0f, 1000.0f}));
    const HostTensor& again = out.at("again");
    EXPECT_EQ(Strings(again.data<std::string>(), again.data<std::string>() + 3), (Strings{"1.5", "-2.0", "1000.0"}));
  }
}

TEST(StringSession, StringsGoInAndComeOutThroughThePublicApi) {
  const std::string bytes = string_model();
  Session session(Model::load_from_bytes(bytes.data(), bytes.size(), "strings.onnx"));
  EXPECT_EQ(session.model().inputs()[0].dtype, "string");
  expect_string_model_outputs(session);
  try {
    session.run({{"words", HostTensor::of<float>({1}, {1.0f})}});
    FAIL() << "a float tensor was accepted for a string input";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("input 'words' must be string, got float32"), std::string::npos) << e.what();
  }
  try {
    session.run({{"words", HostTensor::of<std::string>({1}, {"twelve"})}});
    FAIL() << "'twelve' was read as a number";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("element 0, \"twelve\", is not a number"), std::string::npos) << e.what();
  }
}

TEST(StringSession, APlanOverTwoDevicesMovesStringsAsObjects) {
  const std::string bytes = string_model();
  SessionOptions o;
  o.devices = "cpu,cpu";
  o.mode = "latency";
  o.threads = 1;
  Session session(Model::load_from_bytes(bytes.data(), bytes.size(), "strings.onnx"), o);
  expect_string_model_outputs(session);
}

}  // namespace
}  // namespace tandem
