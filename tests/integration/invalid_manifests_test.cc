// Every broken manifest under tests/data/invalid/, applied with the real CLI to a real controller:
// each must fail with the error its header names (`# line: N` and `# error: TEXT`, checked as
// "FILE:N: TEXT", so file, line and field), and none may store anything.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tests/support/process.h"

namespace opctl {
namespace {

using ::testing::HasSubstr;

struct InvalidCase {
  std::string path;
  int line = 0;
  std::string error;
};

// Reads the two header lines of one case.
InvalidCase ReadCase(const std::string& path) {
  InvalidCase result;
  result.path = path;
  std::ifstream in(path);
  std::string header;
  for (int i = 0; i < 2 && std::getline(in, header); ++i) {
    absl::string_view text = header;
    if (absl::ConsumePrefix(&text, "# line: ")) {
      EXPECT_TRUE(absl::SimpleAtoi(text, &result.line)) << path;
    } else if (absl::ConsumePrefix(&text, "# error: ")) {
      result.error = std::string(text);
    }
  }
  return result;
}

// The two oversized cases are written at test time rather than kept as 7 MB in the repository.
void WriteOversizedCases(const std::string& dir) {
  const std::string head = "apiVersion: opctl.io/v1\nkind: Service\nmetadata: {name: web, stack: bad}\nspec:\n";
  std::ofstream(dir + "/oversized-file.yaml")
      << "# line: 1\n# error: the file is 5120 KiB; a manifest file may be at most 4 MiB\n"
      << head << "  replicas: 1\n  template:\n    image: opctl/busybox:test\n    labels: {note: "
      << std::string(5 * 1024 * 1024, 'x') << "}\n";
  std::ofstream(dir + "/oversized-object.yaml")
      << "# line: 3\n# error: service/web: is 2048 KiB; an object may be at most 1 MiB (keep large data in volumes)\n"
      << head << "  replicas: 1\n  template:\n    image: opctl/busybox:test\n    env:\n      - {name: BLOB, value: "
      << std::string(2 * 1024 * 1024, 'y') << "}\n";
}

std::vector<InvalidCase> AllCases(const std::string& generated_dir) {
  std::vector<InvalidCase> cases;
  WriteOversizedCases(generated_dir);
  for (const auto& entry : std::filesystem::directory_iterator(generated_dir)) cases.push_back(ReadCase(entry.path()));
  for (const auto& entry : std::filesystem::directory_iterator(testing::SourcePath("tests/data/invalid"))) {
    if (entry.path().extension() == ".yaml") cases.push_back(ReadCase(entry.path()));
  }
  std::sort(cases.begin(), cases.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return cases;
}

TEST(InvalidManifests, EachFailsNamingFileLineAndFieldAndStoresNothing) {
  absl::StatusOr<std::unique_ptr<testing::ControllerProcess>> controller =
      testing::ControllerProcess::Start(testing::MakeTempDir("opctl-invalid"));
  ASSERT_TRUE(controller.ok()) << controller.status();
  // Something valid first, so "nothing stored" is a comparison, not an empty list.
  testing::CommandResult applied =
      (*controller)
          ->Opctl({"apply", "-f", "-"}, "apiVersion: opctl.io/v1\nkind: Volume\nmetadata: {name: keep, stack: good}\n");
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  auto stored = [&] {
    std::string names;
    for (const char* kind : {"networks", "volumes", "services", "containers"}) {
      names += (*controller)->Opctl({"get", kind, "-o", "name"}).out;
    }
    return names;
  };
  const std::string before = stored();
  ASSERT_THAT(before, HasSubstr("volume/keep"));

  std::vector<InvalidCase> cases = AllCases(testing::MakeTempDir("opctl-invalid-generated"));
  ASSERT_GE(cases.size(), 40u);
  for (const InvalidCase& bad : cases) {
    SCOPED_TRACE(bad.path);
    ASSERT_GT(bad.line, 0) << "the case has no '# line: N' header";
    ASSERT_FALSE(bad.error.empty()) << "the case has no '# error: TEXT' header";
    testing::CommandResult result = (*controller)->Opctl({"apply", "-f", bad.path});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_THAT(result.err, HasSubstr(absl::StrCat(bad.path, ":", bad.line, ": ", bad.error)));
    EXPECT_THAT(result.err, HasSubstr("nothing was applied"));
    EXPECT_LT(result.err.size(), 4096u) << "a huge value must not be echoed whole";
    EXPECT_EQ(result.out, "");
  }
  EXPECT_EQ(stored(), before);
  std::printf("%zu invalid manifests refused, each naming its file and line; nothing stored\n", cases.size());
}

}  // namespace
}  // namespace opctl
