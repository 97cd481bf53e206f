#include "common/logger.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace opctl {
namespace {

TEST(LoggerTest, TextLinesHaveTimeLevelComponentAndMessage) {
  EXPECT_EQ(
      FormatLogLine(LogFormat::kText, "2026-12-04T02:22:06.123Z", LogLevel::kWarning, "agent", "heartbeat failed"),
      "2026-12-04T02:22:06.123Z WARN  agent: heartbeat failed");
  EXPECT_EQ(FormatLogLine(LogFormat::kText, "T", LogLevel::kInfo, "events", "x"), "T INFO  events: x");
}

TEST(LoggerTest, JsonLinesAreOneObjectEachAndSurviveAnyBytes) {
  std::string line = FormatLogLine(LogFormat::kJson, "2026-12-04T02:22:06.123Z", LogLevel::kError, "watch",
                                   "skipping \"x\"\nnext line \xff\xfe");
  EXPECT_EQ(line.find('\n'), std::string::npos) << "one line: " << line;
  nlohmann::json parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["time"], "2026-12-04T02:22:06.123Z");
  EXPECT_EQ(parsed["level"], "error");
  EXPECT_EQ(parsed["component"], "watch");
  EXPECT_EQ(parsed["msg"].get<std::string>().rfind("skipping \"x\"\nnext line ", 0), 0u);
}

TEST(LoggerTest, FormatsAreTextOrJsonAndVerbosityGatesDebugLines) {
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_EQ(*ParseLogFormat("text"), LogFormat::kText);
  absl::StatusOr<LogFormat> bad = ParseLogFormat("xml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "\"xml\": text or json");
  ConfigureStderrLogger(LogFormat::kText, 1);
  EXPECT_TRUE(Logger::Stderr().Verbose(1));
  EXPECT_FALSE(Logger::Stderr().Verbose(2));
  ConfigureStderrLogger(LogFormat::kText, 0);
  EXPECT_FALSE(Logger::Stderr().Verbose(1));
}

TEST(LoggerTest, DebugLinesAreKeptUpToTheLoggersVerbosity) {
  RecordingLogger quiet, chatty(1);
  for (Logger* logger : {static_cast<Logger*>(&quiet), static_cast<Logger*>(&chatty)}) {
    logger->Log("a", "info");
    logger->Debug(1, "a", "debug 1");
    logger->Debug(2, "a", "debug 2");
  }
  EXPECT_EQ(quiet.lines(), (std::vector<std::string>{"a: info"}));
  EXPECT_EQ(chatty.lines(), (std::vector<std::string>{"a: info", "a: debug 1"}));
}

}  // namespace
}  // namespace opctl
