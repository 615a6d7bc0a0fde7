// Diagnostics: positions by field path, problem formatting, and typo suggestions.
#include "daemon/config/diagnostics.h"

#include <algorithm>

namespace rail::daemon {

void Diagnostics::locate(const std::string& path, Position pos) {
  if (pos.line > 0) where_.emplace(path, pos);  // first sighting wins (duplicate keys)
}

Position Diagnostics::position_of(std::string_view path) const {
  while (!path.empty()) {
    auto it = where_.find(path);
    if (it != where_.end()) return it->second;
    // Strip the last component: ".field" or "[index]".
    size_t cut = path.find_last_of(".[");
    if (cut == std::string_view::npos) break;
    path = path.substr(0, cut);
  }
  return {};
}

void Diagnostics::add(Position pos, std::string path, std::string message) {
  problems_.push_back(Problem{pos, std::move(path), std::move(message)});
}

bool Diagnostics::has_problem_under(std::string_view path) const {
  for (const Problem& p : problems_) {
    std::string_view q = p.path;
    if (q.size() >= path.size() && q.substr(0, path.size()) == path &&
        (q.size() == path.size() || q[path.size()] == '.' || q[path.size()] == '['))
      return true;
  }
  return false;
}

bool Diagnostics::has_problem_at(std::string_view path) const {
  for (const Problem& p : problems_)
    if (p.path == path) return true;
  return false;
}

std::string Diagnostics::text() const {
  std::vector<const Problem*> sorted;
  for (const Problem& p : problems_) sorted.push_back(&p);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Problem* a, const Problem* b) {
    // Unknown positions last; otherwise the order of the file.
    auto key = [](const Problem* p) {
      return std::pair(p->pos.line == 0 ? 1 << 30 : p->pos.line, p->pos.column);
    };
    return key(a) < key(b);
  });
  std::string out;
  for (const Problem* p : sorted) {
    if (!out.empty()) out += '\n';
    out += source_;
    if (p->pos.line > 0)
      out += ":" + std::to_string(p->pos.line) + ":" + std::to_string(p->pos.column);
    out += ": ";
    if (!p->path.empty()) out += p->path + ": ";
    out += p->message;
  }
  return out;
}

namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment: insertions, deletions, substitutions and adjacent swaps ("wbe").
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min(
          {d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

}  // namespace

std::string closest_name(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::string::npos;
  for (const std::string& c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_d) best_d = d, best = c;
  }
  // A third of the length (at least 1, at most 3) keeps "mtus" -> "mtu" and drops "foo" -> "mtu".
  size_t limit = std::clamp<size_t>(word.size() / 3, 1, 3);
  return best_d <= limit ? best : std::string();
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  std::string c = closest_name(word, candidates);
  return c.empty() ? std::string() : " (did you mean \"" + c + "\"?)";
}

}  // namespace rail::daemon
