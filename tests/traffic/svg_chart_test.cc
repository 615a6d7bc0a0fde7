// Unit tests: the SVG chart parses as XML (expat) and carries every series, axis and label.
#include <expat.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "tools/traffic/svg_chart.h"

namespace rail::traffic {
namespace {

// What an XML parse saw: element counts, polyline names, all character data.
struct Parsed {
  bool well_formed = false;
  std::string error;
  std::string root;
  std::map<std::string, int> elements;
  std::vector<std::string> series;  // data-name of each polyline
  std::vector<size_t> series_points;
  std::string text;
};

Parsed parse_xml(const std::string& xml) {
  Parsed p;
  XML_Parser parser = XML_ParserCreate("UTF-8");
  XML_SetUserData(parser, &p);
  XML_SetElementHandler(
      parser,
      [](void* data, const XML_Char* name, const XML_Char** attrs) {
        auto* p = static_cast<Parsed*>(data);
        if (p->root.empty()) p->root = name;
        ++p->elements[name];
        if (std::string(name) != "polyline") return;
        for (int i = 0; attrs[i] != nullptr; i += 2) {
          std::string key = attrs[i];
          if (key == "data-name") p->series.push_back(attrs[i + 1]);
          if (key == "points") {
            std::string points = attrs[i + 1];
            p->series_points.push_back(
                points.empty() ? 0 : 1 + std::count(points.begin(), points.end(), ' '));
          }
        }
      },
      [](void*, const XML_Char*) {});
  XML_SetCharacterDataHandler(parser, [](void* data, const XML_Char* s, int len) {
    static_cast<Parsed*>(data)->text.append(s, size_t(len));
  });
  p.well_formed = XML_Parse(parser, xml.data(), int(xml.size()), 1) == XML_STATUS_OK;
  if (!p.well_formed) p.error = XML_ErrorString(XML_GetErrorCode(parser));
  XML_ParserFree(parser);
  return p;
}

ChartSpec three_series() {
  ChartSpec spec;
  spec.title = "ctraffic <198.18.0.100:8080> & \"friends\"";
  spec.x_label = "time (s)";
  spec.y_label = "connections";
  spec.series = {{"alive", "#1f77b4", {{0, 0}, {1, 20}, {2, 17}, {3, 20}}, ""},
                 {"lost (total)", "#d62728", {{0, 0}, {1, 0}, {2, 11}, {3, 11}}, ""},
                 {"reconnected (total)", "#2ca02c", {{0, 0}, {1, 0}, {2, 8}, {3, 11}}, "6 4"}};
  return spec;
}

TEST(SvgChart, WellFormedWithEverySeriesAxisAndLegend) {
  Parsed p = parse_xml(render_svg_line_chart(three_series()));
  ASSERT_TRUE(p.well_formed) << p.error;
  EXPECT_EQ(p.root, "svg");
  EXPECT_EQ(p.series, (std::vector<std::string>{"alive", "lost (total)", "reconnected (total)"}));
  EXPECT_EQ(p.series_points, (std::vector<size_t>{4, 4, 4}));
  EXPECT_GE(p.elements["line"], 2 + 3);  // two axes + one legend swatch per series at least
  // Title (escaped in the file, intact after parsing), axis labels, legend, tick labels.
  for (const char* text : {"ctraffic <198.18.0.100:8080> & \"friends\"", "time (s)", "connections",
                           "alive", "lost (total)", "reconnected (total)"}) {
    EXPECT_NE(p.text.find(text), std::string::npos) << text;
  }
  EXPECT_NE(p.text.find("20"), std::string::npos);  // y tick at the top value
}

// Lost and reconnected totals often coincide: the dashed one must stay visible on top.
TEST(SvgChart, DashedSeriesAndTheirLegendSwatchesCarryTheDashPattern) {
  const std::string svg = render_svg_line_chart(three_series());
  EXPECT_NE(svg.find("data-name=\"reconnected (total)\" fill=\"none\" stroke=\"#2ca02c\" "
                     "stroke-width=\"2\" stroke-dasharray=\"6 4\""),
            std::string::npos);
  size_t dashed = 0;
  for (size_t at = svg.find("stroke-dasharray"); at != std::string::npos;
       at = svg.find("stroke-dasharray", at + 1))
    ++dashed;
  EXPECT_EQ(dashed, 2u);  // the polyline and its legend swatch; solid series have none
}

TEST(SvgChart, EmptyAndAllZeroChartsAreStillValid) {
  ChartSpec empty;
  Parsed p = parse_xml(render_svg_line_chart(empty));
  EXPECT_TRUE(p.well_formed) << p.error;
  ChartSpec zeros;
  zeros.series = {{"alive", "blue", {{0, 0}, {1, 0}}, ""}};
  std::string svg = render_svg_line_chart(zeros);
  p = parse_xml(svg);
  EXPECT_TRUE(p.well_formed) << p.error;
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
}

TEST(SvgChart, NiceTickSteps) {
  EXPECT_DOUBLE_EQ(nice_tick_step(20, 8), 5);
  EXPECT_DOUBLE_EQ(nice_tick_step(100, 10), 10);
  EXPECT_DOUBLE_EQ(nice_tick_step(3, 10), 0.5);
  EXPECT_DOUBLE_EQ(nice_tick_step(1000, 8), 200);
  EXPECT_DOUBLE_EQ(nice_tick_step(0, 8), 1);
}

TEST(SvgChart, EscapesXmlSpecials) {
  EXPECT_EQ(xml_escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
}

}  // namespace
}  // namespace rail::traffic
