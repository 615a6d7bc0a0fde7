// Shared steps of the testbed scenarios (the live demo, the Rail-vs-HAProxy comparison):
// running a traffic tool inside a testbed role, showing the command, following a log, and
// noticing Ctrl-C without leaving the testbed behind.
#pragma once

#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/result.h"
#include "tools/testbed/testbed.h"

namespace rail::testbed {

// argv running `tool ARGS` inside ROLE's namespace: ip netns exec rtb-NAME-ROLE PATH ARGS...
std::vector<std::string> tool_argv(const Testbed& tb, const std::string& role,
                                   const std::string& tool, const std::vector<std::string>& args);

// How a command is shown to a reader: every word as is, except absolute paths of programs,
// which are shortened to their file name ("ip netns exec rtb-demo-client1 rail-mconnect ...").
std::string shown_command(const std::vector<std::string>& argv);

// Runs a traffic tool with --json (the caller passes it) inside ROLE and parses the last line
// of its output that is a JSON object. A non-zero exit is data, not an error (rail-mconnect
// exits 1 when any attempt failed); no JSON at all is an error carrying the output.
Result<nlohmann::json> run_tool_json(const Testbed& tb, const std::string& role,
                                     const std::string& tool, const std::vector<std::string>& args);

// Follows a growing text file (a spawned process's log): each call returns the complete lines
// appended since the previous call. A file that does not exist yet reads as empty.
class LineFollower {
 public:
  explicit LineFollower(std::string path) : path_(std::move(path)) {}
  std::vector<std::string> new_lines();

 private:
  std::string path_;
  std::streamoff offset_ = 0;
  std::string partial_;
};

// SIGINT, SIGTERM and SIGHUP blocked in this thread and every thread started after it (create
// it first thing in main), to be polled: the program ends its step and tears down instead of
// dying with the testbed up.
class StopSignals {
 public:
  StopSignals();
  // True once one has arrived (consumes it; stays true).
  bool pending();
  int signal() const { return signal_; }

 private:
  sigset_t set_;
  int signal_ = 0;
};

}  // namespace rail::testbed
