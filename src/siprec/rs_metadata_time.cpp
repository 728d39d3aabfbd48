// xs:dateTime parsing for RFC 7865 time elements (associate-time, start-time, ...).
// RFC 7865's schema types them as xs:dateTime (XML Schema Part 2 §3.2.7), which SRCs
// write in the RFC 3339 profile, sometimes without a zone (legacy Acme Packet drafts).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "base/strings.hpp"
#include "siprec/rs_metadata.hpp"

namespace siprecd::siprec {
namespace {

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

bool isLeapYear(int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int daysInMonth(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && isLeapYear(year)) {
    return 29;
  }
  return kDays[month - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (the "days from civil" algorithm).
int64_t daysFromCivil(int64_t year, int month, int day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

// A cursor over the text; each reader consumes on success only.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}

  bool atEnd() const { return pos_ == text_.size(); }
  char peek() const { return atEnd() ? '\0' : text_[pos_]; }
  void advance() { ++pos_; }

  bool consume(char c) {
    if (peek() != c) {
      return false;
    }
    ++pos_;
    return true;
  }

  // Exactly `count` decimal digits.
  std::optional<int> digits(std::size_t count) {
    if (text_.size() - pos_ < count) {
      return std::nullopt;
    }
    int value = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const char c = text_[pos_ + i];
      if (!isDigit(c)) {
        return std::nullopt;
      }
      value = value * 10 + (c - '0');
    }
    pos_ += count;
    return value;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

// Fraction of a second after the '.', in milliseconds (extra digits truncated).
std::optional<int> readFractionMs(Cursor& cursor) {
  if (!isDigit(cursor.peek())) {
    return std::nullopt;
  }
  int ms = 0;
  int scale = 100;
  while (isDigit(cursor.peek())) {
    ms += (cursor.peek() - '0') * scale;
    scale /= 10;
    cursor.advance();
  }
  return ms;
}

// Zone designator: nothing (UTC), 'Z', or ±hh[[:]mm]. Returns the offset in minutes.
std::optional<int> readZoneMinutes(Cursor& cursor) {
  if (cursor.atEnd()) {
    return 0;
  }
  if (cursor.consume('Z') || cursor.consume('z')) {
    return 0;
  }
  int sign = 0;
  if (cursor.consume('+')) {
    sign = 1;
  } else if (cursor.consume('-')) {
    sign = -1;
  } else {
    return std::nullopt;
  }
  const auto hours = cursor.digits(2);
  if (!hours || *hours > 23) {
    return std::nullopt;
  }
  int minutes = 0;
  if (!cursor.atEnd()) {
    cursor.consume(':');
    const auto mm = cursor.digits(2);
    if (!mm || *mm > 59) {
      return std::nullopt;
    }
    minutes = *mm;
  }
  return sign * (*hours * 60 + minutes);
}

}  // namespace

std::optional<int64_t> parseRsDateTimeMs(std::string_view text) {
  Cursor cursor(trim(text));
  const auto year = cursor.digits(4);
  if (!year || !cursor.consume('-')) {
    return std::nullopt;
  }
  const auto month = cursor.digits(2);
  if (!month || *month < 1 || *month > 12 || !cursor.consume('-')) {
    return std::nullopt;
  }
  const auto day = cursor.digits(2);
  if (!day || *day < 1 || *day > daysInMonth(*year, *month)) {
    return std::nullopt;
  }
  if (!cursor.consume('T') && !cursor.consume('t') && !cursor.consume(' ')) {
    return std::nullopt;
  }
  const auto hour = cursor.digits(2);
  if (!hour || !cursor.consume(':')) {
    return std::nullopt;
  }
  const auto minute = cursor.digits(2);
  if (!minute || *minute > 59) {
    return std::nullopt;
  }
  int second = 0;
  int fraction_ms = 0;
  if (cursor.consume(':')) {
    const auto ss = cursor.digits(2);
    if (!ss || *ss > 60) {  // 60: a leap second
      return std::nullopt;
    }
    second = *ss;
    if (cursor.consume('.') || cursor.consume(',')) {
      const auto fraction = readFractionMs(cursor);
      if (!fraction) {
        return std::nullopt;
      }
      fraction_ms = *fraction;
    }
  }
  // xs:dateTime allows 24:00:00 as the end of the day; nothing else past 23.
  if (*hour > 24 || (*hour == 24 && (*minute != 0 || second != 0 || fraction_ms != 0))) {
    return std::nullopt;
  }
  const auto zone_minutes = readZoneMinutes(cursor);
  if (!zone_minutes || !cursor.atEnd()) {
    return std::nullopt;
  }
  const int64_t days = daysFromCivil(*year, *month, *day);
  const int64_t seconds =
      ((days * 24 + *hour) * 60 + *minute - *zone_minutes) * 60 + static_cast<int64_t>(second);
  return seconds * 1000 + fraction_ms;
}

}  // namespace siprecd::siprec
