#include "base/random.hpp"

#include <array>
#include <random>

#include <fmt/format.h>

namespace siprecd {
namespace {

std::mt19937_64& generator() {
  thread_local std::mt19937_64 engine = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  return engine;
}

}  // namespace

uint64_t randomU64() {
  return generator()();
}

std::string randomToken(std::size_t length) {
  static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string token(length, '0');
  for (char& c : token) {
    c = kAlphabet[randomU64() % kAlphabet.size()];
  }
  return token;
}

std::string randomUuid() {
  uint64_t high = randomU64();
  uint64_t low = randomU64();
  high = (high & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  low = (low & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;    // variant 10
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", high >> 32, (high >> 16) & 0xffff,
                     high & 0xffff, low >> 48, low & 0xffffffffffffULL);
}

}  // namespace siprecd
