#include "storage/key_template.hpp"

#include <chrono>
#include <cstddef>
#include <vector>

#include <fmt/format.h>

#include "base/strings.hpp"

namespace siprecd::storage {
namespace {

constexpr std::string_view kPlaceholders[] = {"domain", "recordingId", "date", "callId", "ext"};

bool isKnownPlaceholder(std::string_view name) {
  for (std::string_view known : kPlaceholders) {
    if (name == known) {
      return true;
    }
  }
  return false;
}

bool isSafeValueChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '@' || c == '+' || c == '=' || c == '-';
}

bool isControl(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7f;
}

/// A value as it may appear in a key: unsafe characters (including '/') become '_', and a
/// value made only of dots (".", "..") becomes underscores so it cannot name a parent.
std::string safeValue(std::string_view value) {
  std::string safe(value);
  bool only_dots = !safe.empty();
  for (char& c : safe) {
    if (!isSafeValueChar(c)) {
      c = '_';
    }
    only_dots = only_dots && c == '.';
  }
  if (only_dots) {
    safe.assign(safe.size(), '_');
  }
  return safe;
}

}  // namespace

Result<void> checkKey(std::string_view key) {
  if (key.empty()) {
    return fail("key is empty", 400);
  }
  if (key.size() > kMaxKeyBytes) {
    return fail(fmt::format("key is longer than {} bytes", kMaxKeyBytes), 400);
  }
  for (char c : key) {
    if (isControl(c)) {
      return fail("key contains a control character", 400);
    }
  }
  if (key.front() == '/') {
    return fail("key must not start with '/'", 400);
  }
  for (std::string_view segment : split(key, '/')) {
    if (segment.empty()) {
      return fail("key has an empty path segment", 400);
    }
    if (segment == "." || segment == "..") {
      return fail(fmt::format("key has a '{}' path segment", segment), 400);
    }
    if (segment.size() > kMaxKeySegmentBytes) {
      return fail(fmt::format("key has a path segment longer than {} bytes", kMaxKeySegmentBytes),
                  400);
    }
  }
  return {};
}

Result<std::string> expandKeyTemplate(std::string_view key_template,
                                      const std::map<std::string, std::string>& values) {
  std::string key;
  std::size_t i = 0;
  while (i < key_template.size()) {
    const char c = key_template[i];
    if (c == '}') {
      return fail(fmt::format("key template has an unbalanced '}}' at offset {}", i), 400);
    }
    if (c != '{') {
      if (isControl(c)) {
        return fail("key template contains a control character", 400);
      }
      key.push_back(c);
      ++i;
      continue;
    }
    const std::size_t close = key_template.find_first_of("{}", i + 1);
    if (close == std::string_view::npos || key_template[close] != '}') {
      return fail(fmt::format("key template has an unbalanced '{{' at offset {}", i), 400);
    }
    const std::string_view name = key_template.substr(i + 1, close - i - 1);
    if (!isKnownPlaceholder(name)) {
      return fail(fmt::format("key template has an unknown placeholder '{{{}}}' (known: {{domain}} "
                              "{{recordingId}} {{date}} {{callId}} {{ext}})",
                              name),
                  400);
    }
    const auto value = values.find(std::string(name));
    if (value == values.end()) {
      return fail(fmt::format("key template placeholder '{{{}}}' has no value", name), 400);
    }
    key += safeValue(value->second);
    i = close + 1;
  }
  if (auto checked = checkKey(key); !checked) {
    return fail("key template expands to an unsafe key: " + checked.error().message, 400);
  }
  return key;
}

std::string keyDate(int64_t epoch_ms) {
  using namespace std::chrono;
  const sys_days day = floor<days>(sys_time<milliseconds>(milliseconds(epoch_ms)));
  const year_month_day ymd(day);
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

}  // namespace siprecd::storage
