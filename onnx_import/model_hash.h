// A model's identity for profiles and plans: SHA-256 of the model file's bytes, in hex. Profiles taken of
// one model are refused for another by comparing these (external weight files are not hashed: weights'
// values do not change what a node costs, the graph and shapes do).
#pragma once

#include <string>
#include <string_view>

namespace tandem::onnx_import {

std::string sha256_hex(std::string_view bytes);

}  // namespace tandem::onnx_import
