#pragma once

#include <string>
#include <utility>

#include <tl/expected.hpp>

namespace siprecd {

/// An expected failure: bad input or an environment error. `code` is a protocol status
/// where the producer knows one (a SIP or HTTP status), otherwise 0.
struct Error {
  std::string message;
  int code = 0;
};

/// The value-or-error type of every fallible operation (see STYLE.md "Errors").
template <typename T>
using Result = tl::expected<T, Error>;

/// Builds the error side of a Result: `return fail("missing Via");`.
inline tl::unexpected<Error> fail(std::string message, int code = 0) {
  return tl::unexpected<Error>(Error{std::move(message), code});
}

}  // namespace siprecd
