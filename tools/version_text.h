// `tandem --version`: the build's version and features, and whether a GPU is usable right now.
#pragma once

#include <string>

namespace tandem::cli {

std::string version_text();

}  // namespace tandem::cli
