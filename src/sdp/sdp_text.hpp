#pragma once

#include <string_view>
#include <vector>

// Internal to src/sdp: tokenising helpers for SDP field values (RFC 4566 §9 separates
// fields by a single space; we accept runs of spaces and tabs).
namespace siprecd::sdp::detail {

inline bool isBlank(char c) {
  return c == ' ' || c == '\t';
}

/// Splits on runs of spaces/tabs, dropping empty words.
inline std::vector<std::string_view> splitWords(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && isBlank(text[i])) {
      ++i;
    }
    std::size_t start = i;
    while (i < text.size() && !isBlank(text[i])) {
      ++i;
    }
    if (i > start) {
      words.push_back(text.substr(start, i - start));
    }
  }
  return words;
}

/// Splits "first rest..." at the first run of blanks: {first, rest}; rest may be empty.
struct FirstWord {
  std::string_view first;
  std::string_view rest;
};
inline FirstWord splitFirstWord(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && !isBlank(text[i])) {
    ++i;
  }
  std::string_view first = text.substr(0, i);
  while (i < text.size() && isBlank(text[i])) {
    ++i;
  }
  return {first, text.substr(i)};
}

/// Canonical position of a kept session-level line among the others (RFC 4566 §5 order:
/// i u e p, then c b t r, then z k, then unknown letters). Ranks below
/// kSessionLinesBeforeConnection go before c=.
inline constexpr int kSessionLinesBeforeConnection = 4;
inline constexpr int kSessionLineRanks = 7;
inline constexpr int kMediaLineRanks = 3;
inline int sessionLineRank(char type) {
  switch (type) {
    case 'i':
      return 0;
    case 'u':
      return 1;
    case 'e':
      return 2;
    case 'p':
      return 3;
    case 'z':
      return 4;
    case 'k':
      return 5;
    default:
      return 6;
  }
}

/// Same for a media section: i before c= (rank 0), then k, then unknown letters.
inline int mediaLineRank(char type) {
  switch (type) {
    case 'i':
      return 0;
    case 'k':
      return 1;
    default:
      return 2;
  }
}

}  // namespace siprecd::sdp::detail
