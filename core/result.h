// Result<T>: Rail's one error model for errors callers handle (see docs/errors.md).
//
// An expected-style value: either a T or an Error (a code plus a human-readable message that
// names what was wrong). No exceptions cross a Result boundary; nothing on the per-packet path
// throws. C++20 has no std::expected, so this is a deliberately small stand-in with the same
// spelling for the parts we use (has_value, value, error, operator bool, operator*, ->).
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace rail {

enum class ErrorCode {
  kInvalidArgument,  // caller passed something malformed (bad config value, non-prime size...)
  kNotFound,         // a named thing does not exist (VIP, backend, interface, file)
  kAlreadyExists,    // a unique thing was added twice (duplicate backend identity, VIP)
  kOutOfRange,       // a value is outside its documented bounds
  kMalformed,        // bytes that do not parse (packet, file contents)
  kUnsupported,      // well-formed but not handled by this build/kernel
  kPermission,       // the OS refused for lack of privileges
  kSystem,           // an OS call failed (errno carried in the message)
  kInternal,         // a broken invariant: a bug in Rail
};

const char* to_string(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  // "invalid-argument: table size 100 is not prime"
  std::string describe() const { return std::string(to_string(code)) + ": " + message; }
};

inline Error make_error(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design, like expected
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    assert(has_value());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const {
    assert(!has_value());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success carries nothing.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status ok() { return Status(); }

}  // namespace rail

// Propagate an error from an expression returning Result<...>; evaluates to nothing.
#define RAIL_TRY(expr)                                   \
  do {                                                   \
    auto&& rail_try_result_ = (expr);                    \
    if (!rail_try_result_) return rail_try_result_.error(); \
  } while (0)
