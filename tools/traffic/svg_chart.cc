// SVG line chart writer: maps data to a plot area, draws grid, axes, ticks, lines and a legend.
#include "tools/traffic/svg_chart.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

namespace rail::traffic {
namespace {

constexpr double kLeft = 70, kRight = 170, kTop = 40, kBottom = 55;  // margins, pixels

std::string num(double v) {
  std::array<char, 32> text;
  std::snprintf(text.data(), text.size(), "%.6g", v);
  return text.data();
}

struct Axis {
  double max = 1;
  double step = 1;
};

Axis make_axis(double data_max, int target_ticks) {
  if (!(data_max > 0) || !std::isfinite(data_max)) data_max = 1;
  Axis a;
  a.step = nice_tick_step(data_max, target_ticks);
  a.max = std::ceil(data_max / a.step - 1e-9) * a.step;
  return a;
}

}  // namespace

double nice_tick_step(double max, int target_ticks) {
  if (!(max > 0) || target_ticks < 1) return 1;
  double raw = max / target_ticks;
  double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * magnitude >= raw) return m * magnitude;
  }
  return 10 * magnitude;
}

std::string xml_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

std::string dash_attribute(const ChartSeries& series) {
  return series.dash.empty() ? "" : " stroke-dasharray=\"" + xml_escape(series.dash) + "\"";
}

}  // namespace

std::string render_svg_line_chart(const ChartSpec& spec) {
  double x_max = 0;
  double y_max = 0;
  for (const ChartSeries& s : spec.series) {
    for (const auto& [x, y] : s.points) {
      x_max = std::max(x_max, x);
      y_max = std::max(y_max, y);
    }
  }
  const Axis x_axis = make_axis(x_max, 10);
  const Axis y_axis = make_axis(y_max, 8);
  const double w = spec.width, h = spec.height;
  const double plot_w = w - kLeft - kRight, plot_h = h - kTop - kBottom;
  auto px = [&](double x) { return kLeft + x / x_axis.max * plot_w; };
  auto py = [&](double y) { return kTop + plot_h - y / y_axis.max * plot_h; };

  std::string out;
  out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(w) + "\" height=\"" + num(h) +
         "\" viewBox=\"0 0 " + num(w) + " " + num(h) +
         "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  out += "<title>" + xml_escape(spec.title) + "</title>\n";
  out +=
      "<rect x=\"0\" y=\"0\" width=\"" + num(w) + "\" height=\"" + num(h) + "\" fill=\"white\"/>\n";
  out += "<text x=\"" + num(kLeft + plot_w / 2) +
         "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" + xml_escape(spec.title) +
         "</text>\n";
  // Grid and ticks.
  out += "<g class=\"grid\" stroke=\"#dddddd\" stroke-width=\"1\">\n";
  for (double x = 0; x <= x_axis.max + x_axis.step / 2; x += x_axis.step) {
    out += "<line x1=\"" + num(px(x)) + "\" y1=\"" + num(kTop) + "\" x2=\"" + num(px(x)) +
           "\" y2=\"" + num(kTop + plot_h) + "\"/>\n";
  }
  for (double y = 0; y <= y_axis.max + y_axis.step / 2; y += y_axis.step) {
    out += "<line x1=\"" + num(kLeft) + "\" y1=\"" + num(py(y)) + "\" x2=\"" + num(kLeft + plot_w) +
           "\" y2=\"" + num(py(y)) + "\"/>\n";
  }
  out += "</g>\n<g class=\"ticks\">\n";
  for (double x = 0; x <= x_axis.max + x_axis.step / 2; x += x_axis.step) {
    out += "<text x=\"" + num(px(x)) + "\" y=\"" + num(kTop + plot_h + 18) +
           "\" text-anchor=\"middle\">" + num(x) + "</text>\n";
  }
  for (double y = 0; y <= y_axis.max + y_axis.step / 2; y += y_axis.step) {
    out += "<text x=\"" + num(kLeft - 8) + "\" y=\"" + num(py(y) + 4) + "\" text-anchor=\"end\">" +
           num(y) + "</text>\n";
  }
  out += "</g>\n";
  // Axes and their labels.
  out += "<g class=\"axes\" stroke=\"black\" stroke-width=\"1.5\">\n";
  out += "<line x1=\"" + num(kLeft) + "\" y1=\"" + num(kTop + plot_h) + "\" x2=\"" +
         num(kLeft + plot_w) + "\" y2=\"" + num(kTop + plot_h) + "\"/>\n";
  out += "<line x1=\"" + num(kLeft) + "\" y1=\"" + num(kTop) + "\" x2=\"" + num(kLeft) +
         "\" y2=\"" + num(kTop + plot_h) + "\"/>\n</g>\n";
  out += "<text x=\"" + num(kLeft + plot_w / 2) + "\" y=\"" + num(h - 12) +
         "\" text-anchor=\"middle\">" + xml_escape(spec.x_label) + "</text>\n";
  out += "<text x=\"18\" y=\"" + num(kTop + plot_h / 2) + "\" text-anchor=\"middle\" " +
         "transform=\"rotate(-90 18 " + num(kTop + plot_h / 2) + ")\">" + xml_escape(spec.y_label) +
         "</text>\n";
  // Series, then the legend beside the plot.
  for (const ChartSeries& s : spec.series) {
    std::string points;
    for (const auto& [x, y] : s.points) {
      if (!points.empty()) points += ' ';
      points += num(px(x)) + "," + num(py(y));
    }
    out += "<polyline class=\"series\" data-name=\"" + xml_escape(s.name) +
           "\" fill=\"none\" stroke=\"" + xml_escape(s.color) + "\" stroke-width=\"2\"" +
           dash_attribute(s) + " points=\"" + points + "\"/>\n";
  }
  out += "<g class=\"legend\">\n";
  double ly = kTop + 10;
  for (const ChartSeries& s : spec.series) {
    const double lx = kLeft + plot_w + 15;
    out += "<line x1=\"" + num(lx) + "\" y1=\"" + num(ly) + "\" x2=\"" + num(lx + 25) + "\" y2=\"" +
           num(ly) + "\" stroke=\"" + xml_escape(s.color) + "\" stroke-width=\"3\"" +
           dash_attribute(s) + "/>\n";
    out += "<text x=\"" + num(lx + 32) + "\" y=\"" + num(ly + 4) + "\">" + xml_escape(s.name) +
           "</text>\n";
    ly += 20;
  }
  out += "</g>\n</svg>\n";
  return out;
}

}  // namespace rail::traffic
