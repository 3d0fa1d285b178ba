// Operator schemas for import: libonnx's, plus tandem's own for default-domain ops whose definition
// changed in an opset newer than the installed libonnx knows (Debian 12's libonnx 1.12 stops at 17).
#pragma once

#include <string>

namespace onnx {
class ISchemaRegistry;
}

namespace tandem::onnx_import {

// Highest default-domain opset tandem understands.
inline constexpr int kMaxDefaultOpset = 26;

// A registry that answers with tandem's own schemas for default-domain ops whose definition changed
// in opsets the installed libonnx does not know (18 to 26), and with libonnx's schemas otherwise.
// Pass it to onnx::shape_inference::InferShapes and use its schemas for OpSchema::Verify.
// - "" and "ai.onnx" both name the default domain (libonnx itself only answers for "").
// - For an op changed in 18 to 26 that tandem has no schema for (see is_unknown_newer_version) it answers
//   nullptr from that opset on rather than the older, wrong schema.
// - Above kMaxDefaultOpset it still answers with the newest view it has; models that new must be refused.
// Thread-safe; the object lives for the whole program.
const onnx::ISchemaRegistry& schema_registry();

// True when `op_type` (default domain) has a newer definition at `opset` than libonnx knows and tandem has
// no schema of its own for it: the importer must refuse such a node with a clear message.
// Above kMaxDefaultOpset tandem cannot vouch for any op, so every op is reported.
bool is_unknown_newer_version(const std::string& op_type, int opset);

// Highest opset the installed libonnx knows for the default domain (17 here), read from the library.
int library_max_default_opset();

}  // namespace tandem::onnx_import
