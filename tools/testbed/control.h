// The control socket of a running `rail-testbed up` (STATE/control.sock): other invocations
// (`rail-testbed backend|node ...`) ask the owning process to stop/start things it owns.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "core/result.h"
#include "core/unique_fd.h"
#include "tools/testbed/testbed.h"

namespace rail::testbed {

// One request per connection: a line "backend J stop|start" or "node I stop|start"; the answer
// is "ok\n" or "error: MESSAGE\n".
class ControlServer {
 public:
  static Result<std::unique_ptr<ControlServer>> start(const std::string& path, Testbed& testbed);
  ~ControlServer();  // stops serving, removes the socket file

 private:
  ControlServer(UniqueFd listener, UniqueFd stop_read, UniqueFd stop_write, std::string path,
                Testbed& testbed);
  void serve();
  std::string handle(const std::string& line);

  UniqueFd listener_;
  UniqueFd stop_read_, stop_write_;  // a byte on the pipe ends serve()
  std::string path_;
  Testbed& testbed_;
  std::thread thread_;
};

// Sends `line` to the control socket at `path`; the answer's message, or its error.
Result<std::string> control_request(const std::string& path, const std::string& line);

}  // namespace rail::testbed
