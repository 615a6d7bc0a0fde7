// ControlServer: a unix socket served by the process that owns a testbed.
#include "tools/testbed/control.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

namespace rail::testbed {

namespace {

Result<sockaddr_un> unix_address(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof(a.sun_path))
    return make_error(ErrorCode::kInvalidArgument, "socket path too long: " + path);
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  return a;
}

std::string read_line(int fd) {
  std::string line;
  char c;
  while (line.size() < 4096 && recv(fd, &c, 1, 0) == 1 && c != '\n') line += c;
  return line;
}

}  // namespace

Result<std::unique_ptr<ControlServer>> ControlServer::start(const std::string& path,
                                                            Testbed& testbed) {
  auto a = unix_address(path);
  if (!a) return a.error();
  UniqueFd listener(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener.valid())
    return make_error(ErrorCode::kSystem, std::string("socket: ") + strerror(errno));
  unlink(path.c_str());
  if (bind(listener.get(), reinterpret_cast<sockaddr*>(&*a), sizeof(*a)) != 0 ||
      listen(listener.get(), 8) != 0) {
    return make_error(ErrorCode::kSystem, "control socket " + path + ": " + strerror(errno));
  }
  // Without the stop pipe the serving thread could not be stopped: an error, not a hang later.
  int stop[2];
  if (pipe2(stop, O_CLOEXEC) != 0)
    return make_error(ErrorCode::kSystem, std::string("pipe: ") + strerror(errno));
  return std::unique_ptr<ControlServer>(
      new ControlServer(std::move(listener), UniqueFd(stop[0]), UniqueFd(stop[1]), path, testbed));
}

ControlServer::ControlServer(UniqueFd listener, UniqueFd stop_read, UniqueFd stop_write,
                             std::string path, Testbed& testbed)
    : listener_(std::move(listener)),
      stop_read_(std::move(stop_read)),
      stop_write_(std::move(stop_write)),
      path_(std::move(path)),
      testbed_(testbed) {
  thread_ = std::thread([this] { serve(); });
}

ControlServer::~ControlServer() {
  (void)!write(stop_write_.get(), "x", 1);
  if (thread_.joinable()) thread_.join();
  unlink(path_.c_str());
}

void ControlServer::serve() {
  for (;;) {
    pollfd p[2] = {{listener_.get(), POLLIN, 0}, {stop_read_.get(), POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[1].revents) return;
    UniqueFd conn(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn.valid()) continue;
    const std::string answer = handle(read_line(conn.get())) + "\n";
    (void)!send(conn.get(), answer.data(), answer.size(), MSG_NOSIGNAL);
  }
}

std::string ControlServer::handle(const std::string& line) {
  std::istringstream in(line);
  std::string what, action;
  int index = 0;
  in >> what >> index >> action;
  Status st = make_error(ErrorCode::kInvalidArgument, "bad request \"" + line + "\"");
  if (what == "backend" && action == "stop") st = testbed_.stop_backend(index);
  if (what == "backend" && action == "start") st = testbed_.start_backend(index);
  if (what == "node" && action == "stop") st = testbed_.stop_rail_node(index);
  if (what == "node" && action == "start") st = testbed_.start_rail_node(index);
  if (!st) {
    std::string message = st.error().message;
    for (char& c : message)
      if (c == '\n') c = ' ';  // one line per answer
    return "error: " + message;
  }
  return "ok";
}

Result<std::string> control_request(const std::string& path, const std::string& line) {
  auto a = unix_address(path);
  if (!a) return a.error();
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return make_error(ErrorCode::kSystem, std::string("socket: ") + strerror(errno));
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&*a), sizeof(*a)) != 0) {
    return make_error(ErrorCode::kNotFound,
                      "no running testbed answers on " + path + ": " + strerror(errno));
  }
  const std::string request = line + "\n";
  (void)!send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL);
  const std::string answer = read_line(fd.get());
  if (answer.rfind("error: ", 0) == 0) return make_error(ErrorCode::kSystem, answer.substr(7));
  if (answer != "ok") return make_error(ErrorCode::kSystem, "no answer from " + path);
  return answer;
}

}  // namespace rail::testbed
