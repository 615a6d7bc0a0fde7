// A text table for railctl's human output: columns sized to their widest cell, numbers
// right-aligned so digits line up.
#pragma once

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace rail::railctl {

class TextTable {
 public:
  // A header ending in '>' (e.g. "PACKETS>") is a right-aligned column; the '>' is not shown.
  explicit TextTable(std::vector<std::string> headers) {
    for (std::string& h : headers) {
      const bool right = !h.empty() && h.back() == '>';
      if (right) h.pop_back();
      right_.push_back(right);
    }
    rows_.push_back(std::move(headers));
  }
  void add(std::vector<std::string> row) {
    row.resize(right_.size());
    rows_.push_back(std::move(row));
  }
  void print(const std::string& indent = "") const {
    std::vector<size_t> width(right_.size(), 0);
    for (const auto& row : rows_)
      for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    for (const auto& row : rows_) {
      std::string line = indent;
      for (size_t i = 0; i < row.size(); ++i) {
        const std::string pad(width[i] - row[i].size(), ' ');
        const bool last = i + 1 == row.size();
        line += right_[i] ? pad + row[i] : (last ? row[i] : row[i] + pad);
        if (!last) line += "  ";
      }
      std::printf("%s\n", line.c_str());
    }
  }

 private:
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace rail::railctl
