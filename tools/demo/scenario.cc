// Shared steps of the testbed scenarios: tool commands in a role, JSON output, log following,
// stop signals.
#include "tools/demo/scenario.h"

#include <time.h>
#include <unistd.h>

#include <filesystem>

namespace rail::testbed {

std::vector<std::string> tool_argv(const Testbed& tb, const std::string& role,
                                   const std::string& tool, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {ip_binary(), "netns", "exec", tb.ns(role), tb.binary(tool)};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::string shown_command(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& word : argv) {
    // Programs (absolute paths of executables) by name; data files keep their full path.
    const bool program = !word.empty() && word[0] == '/' && access(word.c_str(), X_OK) == 0 &&
                         !std::filesystem::is_directory(word);
    out += (out.empty() ? "" : " ") + (program ? word.substr(word.rfind('/') + 1) : word);
  }
  return out;
}

Result<nlohmann::json> run_tool_json(const Testbed& tb, const std::string& role,
                                     const std::string& tool,
                                     const std::vector<std::string>& args) {
  const std::vector<std::string> argv = tool_argv(tb, role, tool, args);
  auto r = run_status(argv);
  if (!r) return r.error();
  for (size_t end = r->output.size(); end > 0;) {
    const size_t start = r->output.rfind('\n', end - 1);
    const size_t from = start == std::string::npos ? 0 : start + 1;
    const std::string line = r->output.substr(from, end - from);
    if (!line.empty() && line[0] == '{') {
      nlohmann::json doc = nlohmann::json::parse(line, nullptr, false);
      if (!doc.is_discarded()) return doc;
    }
    if (start == std::string::npos) break;
    end = start;
  }
  return make_error(ErrorCode::kMalformed, shown_command(argv) + ": no JSON in its output (exit " +
                                               std::to_string(r->status) + "): " + r->output);
}

std::vector<std::string> LineFollower::new_lines() {
  std::vector<std::string> lines;
  std::ifstream in(path_, std::ios::binary);
  if (!in) return lines;
  in.seekg(offset_);
  std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  offset_ += std::streamoff(chunk.size());
  partial_ += chunk;
  for (size_t nl; (nl = partial_.find('\n')) != std::string::npos;) {
    lines.push_back(partial_.substr(0, nl));
    partial_.erase(0, nl + 1);
  }
  return lines;
}

StopSignals::StopSignals() {
  sigemptyset(&set_);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set_, s);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
}

bool StopSignals::pending() {
  if (signal_ != 0) return true;
  const timespec now{0, 0};
  const int s = sigtimedwait(&set_, nullptr, &now);
  if (s > 0) signal_ = s;
  return signal_ != 0;
}

}  // namespace rail::testbed
