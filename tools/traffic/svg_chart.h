// A self-contained SVG line chart (axes, ticks, labels, legend) with no dependencies, for
// rail-ctraffic's --svg-out. Output is well-formed XML readable by any browser.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace rail::traffic {

struct ChartSeries {
  std::string name;                               // legend text
  std::string color;                              // any SVG color ("#1f77b4")
  std::vector<std::pair<double, double>> points;  // (x, y) in data units, x ascending
  // SVG stroke-dasharray ("6 4"), empty = solid: series that often coincide (lost and
  // reconnected totals) stay visible on top of each other.
  std::string dash;
};

struct ChartSpec {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<ChartSeries> series;
  int width = 800;   // pixels
  int height = 450;  // pixels
};

// The chart as an SVG document. Axes start at 0 and end at a "nice" value (1, 2 or 5 x 10^k
// steps) at or above the largest point; empty series or all-zero data still give valid axes.
std::string render_svg_line_chart(const ChartSpec& spec);

// A tick step of 1, 2 or 5 x 10^k giving about `target_ticks` ticks over [0, max]; max > 0.
double nice_tick_step(double max, int target_ticks);

// Escapes &, <, >, " and ' for XML text and attribute values.
std::string xml_escape(const std::string& text);

}  // namespace rail::traffic
