#include "cli/line_diff.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace opctl::cli {
namespace {

struct Edit {
  char op;  // ' ' kept, '-' removed, '+' added
  std::string line;
};

std::vector<std::string> Lines(const std::string& text) {
  if (text.empty()) return {};
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  if (lines.back().empty()) lines.pop_back();  // the final newline ends a line, it starts none
  return lines;
}

// A shortest edit script from the longest common subsequence. Quadratic, which is fine for objects
// of a few hundred lines.
std::vector<Edit> EditScript(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  size_t n = a.size(), m = b.size();
  // common[i][j]: length of the longest common subsequence of a[i..] and b[j..].
  std::vector<std::vector<int>> common(n + 1, std::vector<int>(m + 1, 0));
  for (size_t i = n; i-- > 0;) {
    for (size_t j = m; j-- > 0;) {
      common[i][j] = a[i] == b[j] ? common[i + 1][j + 1] + 1 : std::max(common[i + 1][j], common[i][j + 1]);
    }
  }
  std::vector<Edit> edits;
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) {
      edits.push_back({' ', a[i++]});
      ++j;
    } else if (j == m || (i < n && common[i + 1][j] >= common[i][j + 1])) {
      edits.push_back({'-', a[i++]});
    } else {
      edits.push_back({'+', b[j++]});
    }
  }
  return edits;
}

// "l,n" as diff writes it: ",n" left out when n is 1, and l the line before the hunk when n is 0.
std::string Range(int first_line, int count) {
  if (count == 1) return absl::StrCat(first_line);
  return absl::StrCat(count == 0 ? first_line - 1 : first_line, ",", count);
}

}  // namespace

std::string UnifiedDiff(const std::string& before, const std::string& after, const std::string& before_name,
                        const std::string& after_name, int context) {
  std::vector<Edit> edits = EditScript(Lines(before), Lines(after));
  std::vector<size_t> changed;
  for (size_t k = 0; k < edits.size(); ++k) {
    if (edits[k].op != ' ') changed.push_back(k);
  }
  if (changed.empty()) return "";
  std::string out = absl::StrCat("--- ", before_name, "\n+++ ", after_name, "\n");
  size_t ctx = static_cast<size_t>(std::max(context, 0));
  size_t next = 0;  // the first change not yet in a hunk
  while (next < changed.size()) {
    // A hunk takes every change whose gap to the previous one fits in the context of both.
    size_t last = next;
    while (last + 1 < changed.size() && changed[last + 1] - changed[last] <= 2 * ctx + 1) ++last;
    size_t begin = changed[next] >= ctx ? changed[next] - ctx : 0;
    size_t end = std::min(edits.size(), changed[last] + ctx + 1);
    int before_line = 1, after_line = 1;  // of edits[begin]
    for (size_t k = 0; k < begin; ++k) {
      before_line += edits[k].op != '+';
      after_line += edits[k].op != '-';
    }
    int before_count = 0, after_count = 0;
    std::string body;
    for (size_t k = begin; k < end; ++k) {
      before_count += edits[k].op != '+';
      after_count += edits[k].op != '-';
      absl::StrAppend(&body, std::string(1, edits[k].op), edits[k].line, "\n");
    }
    absl::StrAppend(&out, "@@ -", Range(before_line, before_count), " +", Range(after_line, after_count), " @@\n",
                    body);
    next = last + 1;
  }
  return out;
}

}  // namespace opctl::cli
