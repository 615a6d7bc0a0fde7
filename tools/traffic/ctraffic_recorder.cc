// CtrafficRecorder: counters, samples, summary, JSON and text for rail-ctraffic.
#include "tools/traffic/ctraffic_recorder.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

namespace rail::traffic {
namespace {

std::string counts_text(const std::map<std::string, uint64_t>& counts) {
  if (counts.empty()) return "-";
  std::string out;
  for (const auto& [name, count] : counts) {
    if (!out.empty()) out += ' ';
    out += name + "=" + std::to_string(count);
  }
  return out;
}

// Whole seconds print as integers ("t":1), partial ones as numbers ("t":2.5).
nlohmann::ordered_json seconds_json(double t) {
  if (t == std::floor(t) && t < 1e15) return int64_t(t);
  return t;
}

}  // namespace

void CtrafficRecorder::alive(const std::string& backend, bool replacement) {
  ++alive_count_;
  ++ever_alive_;
  ++alive_by_backend_[backend];
  if (replacement) {
    ++summary_.reconnected;
  } else {
    ++summary_.initial_backends[backend];
  }
}

void CtrafficRecorder::lost(const std::string& backend, const std::string& reason) {
  ++summary_.lost_total;
  ++lost_this_second_;
  ++summary_.lost_by_reason[reason];
  if (backend.empty()) return;  // never alive: nothing to take away
  ++summary_.lost_by_backend[backend];
  --alive_count_;
  if (--alive_by_backend_[backend] == 0) alive_by_backend_.erase(backend);
}

void CtrafficRecorder::answered(double latency_ms) {
  ++answered_this_second_;
  ++summary_.answered;
  latency_sum_ms_ += latency_ms;
  summary_.max_latency_ms = std::max(summary_.max_latency_ms, latency_ms);
}

const CtrafficSample& CtrafficRecorder::take_sample(double t, uint64_t connecting) {
  CtrafficSample s;
  s.t = t;
  s.alive = alive_count_;
  s.lost = lost_this_second_;
  s.lost_total = summary_.lost_total;
  s.reconnected_total = summary_.reconnected;
  s.connecting = connecting;
  s.sent = sent_this_second_;
  s.answered = answered_this_second_;
  s.backends = alive_by_backend_;
  summary_.sent += sent_this_second_;
  lost_this_second_ = sent_this_second_ = answered_this_second_ = 0;
  samples_.push_back(std::move(s));
  return samples_.back();
}

CtrafficSummary CtrafficRecorder::summary() const {
  CtrafficSummary s = summary_;
  s.sent += sent_this_second_;  // messages after the last sample
  for (const char* reason :
       {kLostReset, kLostTimeout, kLostEof, kLostBackendChanged, kLostConnectFailed}) {
    s.lost_by_reason.try_emplace(reason, 0);
  }
  s.mean_latency_ms = s.answered ? latency_sum_ms_ / double(s.answered) : 0;
  s.final_backends = alive_by_backend_;
  return s;
}

nlohmann::ordered_json CtrafficRecorder::to_json(const CtrafficRunInfo& info) const {
  using json = nlohmann::ordered_json;
  auto counts = [](const std::map<std::string, uint64_t>& m) {
    json j = json::object();
    for (const auto& [k, v] : m) j[k] = v;
    return j;
  };
  json j;
  j["target"] = info.target;
  j["connections"] = info.connections;
  j["rate"] = info.rate;
  j["duration_s"] = info.duration_s;
  if (info.interrupted) j["interrupted"] = true;
  j["samples"] = json::array();
  for (const CtrafficSample& s : samples_) {
    json row;
    row["t"] = seconds_json(s.t);
    row["alive"] = s.alive;
    row["lost"] = s.lost;
    row["lost_total"] = s.lost_total;
    row["reconnected_total"] = s.reconnected_total;
    row["connecting"] = s.connecting;
    row["sent"] = s.sent;
    row["answered"] = s.answered;
    row["backends"] = counts(s.backends);
    j["samples"].push_back(std::move(row));
  }
  const CtrafficSummary s = summary();
  json& sum = j["summary"];
  sum["initial_backends"] = counts(s.initial_backends);
  sum["lost_total"] = s.lost_total;
  sum["lost_by_backend"] = counts(s.lost_by_backend);
  sum["lost_by_reason"] = counts(s.lost_by_reason);
  sum["reconnected"] = s.reconnected;
  sum["reconnect_failed"] = s.reconnect_failed;
  sum["sent"] = s.sent;
  sum["answered"] = s.answered;
  sum["max_latency_ms"] = s.max_latency_ms;
  sum["mean_latency_ms"] = s.mean_latency_ms;
  sum["final_backends"] = counts(s.final_backends);
  return j;
}

std::string CtrafficRecorder::summary_text(const CtrafficRunInfo& info) const {
  const CtrafficSummary s = summary();
  std::map<std::string, uint64_t> reasons;
  for (const auto& [reason, count] : s.lost_by_reason) {
    if (count > 0) reasons[reason] = count;
  }
  const double share =
      info.connections ? 100.0 * double(s.lost_total) / double(info.connections) : 0;
  std::array<char, 1024> line;
  std::string out;
  std::snprintf(line.data(), line.size(),
                "target %s: %llu connections, %g messages/s each, %.1f s%s\n", info.target.c_str(),
                (unsigned long long)info.connections, info.rate, info.duration_s,
                info.interrupted ? " (stopped early)" : "");
  out += line.data();
  out += "initial backends: " + counts_text(s.initial_backends) + "\n";
  std::snprintf(line.data(), line.size(), "lost: %llu (%.1f%% of %llu)",
                (unsigned long long)s.lost_total, share, (unsigned long long)info.connections);
  out += line.data();
  out += "  by backend: " + counts_text(s.lost_by_backend) +
         "  by reason: " + counts_text(reasons) + "\n";
  std::snprintf(line.data(), line.size(),
                "reconnected: %llu (failed reconnect attempts: %llu)\n"
                "messages: sent %llu, answered %llu; reply latency max %.3f ms, mean %.3f ms\n",
                (unsigned long long)s.reconnected, (unsigned long long)s.reconnect_failed,
                (unsigned long long)s.sent, (unsigned long long)s.answered, s.max_latency_ms,
                s.mean_latency_ms);
  out += line.data();
  out += "final backends: " + counts_text(s.final_backends) + "\n";
  return out;
}

std::string CtrafficRecorder::progress_line(const CtrafficSample& s) {
  std::array<char, 256> head;
  std::snprintf(head.data(), head.size(),
                "t=%gs alive=%llu lost=%llu(+%llu) reconnected=%llu connecting=%llu sent=%llu "
                "answered=%llu",
                s.t, (unsigned long long)s.alive, (unsigned long long)s.lost_total,
                (unsigned long long)s.lost, (unsigned long long)s.reconnected_total,
                (unsigned long long)s.connecting, (unsigned long long)s.sent,
                (unsigned long long)s.answered);
  std::string out = head.data();
  for (const auto& [name, count] : s.backends) out += " " + name + "=" + std::to_string(count);
  return out;
}

}  // namespace rail::traffic
