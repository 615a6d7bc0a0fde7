// RAII network namespaces and veth pairs for live tests, always torn down (even on failure).
//
// Every object gets a name unique to this process ("rail-e2e-<pid>-<n>-<role>"), so tests
// of parallel runs never collide; creating a namespace first deletes namespaces left by
// earlier runs whose process is dead (a test killed by a signal cannot run destructors).
// Only addresses from 198.18.0.0/15 and 2001:db8::/32 are meant to be used inside.
#pragma once

#include <functional>
#include <string>

#include "core/result.h"

namespace rail::e2e {

// Runs `command` with /bin/sh; error (with the command's output) on a non-zero exit.
Result<std::string> run_command(const std::string& command);

// A named namespace (`ip netns add`, visible in /run/netns), deleted by the destructor.
// Loopback is brought up on creation. Move-only.
class Netns {
 public:
  static Result<Netns> create(const std::string& role);
  Netns(Netns&& other) noexcept;
  Netns& operator=(Netns&&) = delete;
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;
  ~Netns();

  const std::string& name() const { return name_; }
  // Runs a shell command inside the namespace (`ip netns exec`).
  Result<std::string> exec(const std::string& command) const;
  // Runs `fn` on a helper thread that has joined the namespace: sockets it creates and
  // interfaces it looks up belong to this namespace. Blocks until fn returns.
  Status run(const std::function<Status()>& fn) const;

 private:
  explicit Netns(std::string name) : name_(std::move(name)) {}
  std::string name_;
};

// A veth pair with one end in each namespace, both up, offloads (checksum, GSO, GRO, TSO)
// off so the kernel puts complete checksums in every packet (see docs/decap.md). The pair
// disappears with either namespace; the destructor deletes it explicitly when still there.
class VethPair {
 public:
  static Result<VethPair> create(const Netns& a, const std::string& a_ifname, const Netns& b,
                                 const std::string& b_ifname);
  VethPair(VethPair&& other) noexcept;
  VethPair& operator=(VethPair&&) = delete;
  VethPair(const VethPair&) = delete;
  VethPair& operator=(const VethPair&) = delete;
  ~VethPair();

 private:
  VethPair(std::string ns, std::string ifname) : ns_(std::move(ns)), ifname_(std::move(ifname)) {}
  std::string ns_;
  std::string ifname_;
};

}  // namespace rail::e2e
