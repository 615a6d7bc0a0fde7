// BpfSkeleton<Traits>: RAII owner of a bpftool-generated libbpf skeleton.
//
// Life cycle: open() -> set rodata (`const volatile` globals, via rodata()) and map sizes ->
// load() (verifier runs here; the error carries the tail of the verifier log) -> use fds ->
// destructor destroys the skeleton (closing every program, map and link it owns).
//
// Each skeleton gets a traits struct from RAIL_BPF_SKELETON_TRAITS(name) where `name` is the
// bpftool skeleton name (decap_bpf for bpf/decap.bpf.c, see cmake/Bpf.cmake).
#pragma once

#include <bpf/libbpf.h>

#include <memory>
#include <string>

#include "core/result.h"
#include "dataplane/libbpf_error.h"

namespace rail::dataplane {

#define RAIL_BPF_SKELETON_TRAITS(name)                                                             \
  struct name##_traits {                                                                           \
    using Skel = struct name;                                                                      \
    static const char* label() { return #name; }                                                   \
    static Skel* open(const struct bpf_object_open_opts* opts) { return name##__open_opts(opts); } \
    static int load(Skel* s) { return name##__load(s); }                                           \
    static void destroy(Skel* s) { name##__destroy(s); }                                           \
  }

template <typename Traits>
class BpfSkeleton {
 public:
  using Skel = typename Traits::Skel;

  // Opens the embedded object (no kernel objects yet). Rodata may be set until load().
  static Result<BpfSkeleton> open() {
    BpfSkeleton owner;
    owner.log_ = std::make_unique<std::string>(kLogSize, '\0');
    LIBBPF_OPTS(bpf_object_open_opts, opts, .kernel_log_buf = owner.log_->data(),
                .kernel_log_size = kLogSize, .kernel_log_level = 0);
    Skel* skel = Traits::open(&opts);
    if (skel == nullptr)
      return libbpf_error(std::string("open BPF skeleton ") + Traits::label(), -errno);
    owner.skel_.reset(skel);
    return owner;
  }

  // Creates maps and runs the verifier on every program.
  Status load() {
    int err = Traits::load(skel_.get());
    if (err != 0) {
      Error e = libbpf_error(std::string("load BPF skeleton ") + Traits::label(), err);
      std::string log(log_->c_str());
      if (!log.empty()) {
        e.message +=
            "; verifier log tail: " + log.substr(log.size() > 2000 ? log.size() - 2000 : 0);
      }
      return e;
    }
    return ok();
  }

  Skel* get() const { return skel_.get(); }
  Skel* operator->() const { return skel_.get(); }

 private:
  static constexpr size_t kLogSize = 1 << 20;
  struct Destroy {
    void operator()(Skel* s) const { Traits::destroy(s); }
  };
  BpfSkeleton() = default;

  std::unique_ptr<std::string> log_;  // stable address: libbpf keeps the pointer until load
  std::unique_ptr<Skel, Destroy> skel_;
};

}  // namespace rail::dataplane
