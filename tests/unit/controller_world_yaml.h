// The rail.yaml of the controller tests and the API latency bench: one pool "web" behind www.
#pragma once

#include <string>

namespace rail::daemon::testing {

// Pool "web" (`backends`, a YAML list; `check`, the pool's check) behind www
// (198.18.100.1:80/tcp, Maglev table of `table_size`); state file under `dir`.
inline std::string world_yaml(const std::string& dir, const std::string& check = "type: none",
                              const std::string& backends = "[198.18.1.1, 198.18.1.2, 198.18.1.3]",
                              int table_size = 251) {
  return "node:\n"
         "  interfaces: [veth0]\n"
         "  mac: 02:00:00:00:0b:01\n"
         "  outer_source_v4: 198.18.0.1\n"
         "  state_file: " +
         dir +
         "/running.yaml\n"
         "pools:\n"
         "  - name: web\n"
         "    backends: " +
         backends +
         "\n"
         "    check: { " +
         check +
         " }\n"
         "vips:\n"
         "  - name: www\n"
         "    address: 198.18.100.1\n"
         "    port: 80\n"
         "    pool: web\n"
         "    table_size: " +
         std::to_string(table_size) + "\n";
}

}  // namespace rail::daemon::testing
