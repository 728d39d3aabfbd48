#pragma once

#include <filesystem>
#include <string_view>

#include "app/config.hpp"
#include "base/result.hpp"

namespace siprecd::app {

/// Overlays the YAML document `text` onto `config`: keys present replace the current
/// values, absent keys keep them. Unknown keys and wrongly typed values are errors
/// naming the key path ("sip.listen[1]", "domains[0].match.hosts"); a YAML syntax error
/// names `source` and the line. Values are only converted here; validateConfig() checks
/// their meaning. Never throws.
Result<void> applyYaml(std::string_view text, std::string_view source, Config& config);

/// Reads `file` and applies it with applyYaml(); a missing or unreadable file is an
/// error naming it.
Result<void> applyYamlFile(const std::filesystem::path& file, Config& config);

}  // namespace siprecd::app
