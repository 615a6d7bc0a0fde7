// Diagnostics: every problem found in a config file, each with FILE:LINE:COLUMN and field path.
//
// The loader records where each field path is written (locate) while it reads the YAML; later
// checks on the finished model then report by path alone and still get a position. The error
// lists all problems in file order, one per line, because an operator fixing a config wants
// the whole list at once, not one round trip per mistake.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace rail::daemon {

struct Position {
  int line = 0;  // 1-based; 0 = unknown
  int column = 0;
};

struct Problem {
  Position pos;
  std::string path;  // "vips[0].port"; empty for whole-file problems
  std::string message;
};

class Diagnostics {
 public:
  explicit Diagnostics(std::string source) : source_(std::move(source)) {}

  void locate(const std::string& path, Position pos);
  // Position of `path`, else of its nearest enclosing path that was located.
  Position position_of(std::string_view path) const;

  void add(Position pos, std::string path, std::string message);
  void add(const std::string& path, std::string message) {
    add(position_of(path), path, std::move(message));
  }

  bool empty() const { return problems_.empty(); }
  // A problem was reported at `path` or inside it: later checks skip that part, whose model
  // values are defaults or half-read, rather than report echoes of the first problem.
  bool has_problem_under(std::string_view path) const;
  bool has_problem_at(std::string_view path) const;  // exactly there (e.g. "not a mapping")
  const std::vector<Problem>& problems() const { return problems_; }
  const std::string& source() const { return source_; }
  // "rail.yaml:12:7: vips[0].port: 70000 is not a port ..." lines in file order.
  std::string text() const;
  Error error() const { return make_error(ErrorCode::kInvalidArgument, text()); }

 private:
  std::string source_;
  std::map<std::string, Position, std::less<>> where_;
  std::vector<Problem> problems_;
};

// The candidate closest to `word` if it is plausibly a typo of it (small edit distance), else "".
std::string closest_name(std::string_view word, const std::vector<std::string>& candidates);

// ` (did you mean "mtu"?)` or "".
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace rail::daemon
