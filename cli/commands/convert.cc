// opctl convert -f docker-compose.yml [-f more.yml] [--stack NAME] [-o DIR|-]
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "cli/commands/commands.h"
#include "cli/migrate/compose_import.h"
#include "cli/output.h"

extern char** environ;

namespace opctl::cli {

int RunConvert(CommandContext& context) {
  std::vector<std::string> paths = context.arguments.GetAll("filename");
  if (paths.empty()) return Fail(context, "convert needs -f docker-compose.yml (repeatable: later files override)", 2);
  std::vector<ComposeFile> files;
  for (const std::string& path : paths) {
    std::ifstream in(path);
    if (!in) return Fail(context, absl::StrCat("cannot read ", path));
    std::stringstream text;
    text << in.rdbuf();
    files.push_back({path, text.str()});
  }
  ComposeOptions options;
  options.stack = context.arguments.Get("stack");
  for (char** variable = environ; *variable != nullptr; ++variable) {
    std::string entry(*variable);
    size_t equals = entry.find('=');
    if (equals != std::string::npos) options.variables[entry.substr(0, equals)] = entry.substr(equals + 1);
  }
  ConvertedCompose converted = ConvertCompose(files, options);
  for (const std::string& warning : converted.warnings) context.err << "warning: " << warning << "\n";
  if (!converted.errors.empty()) return RefuseManifests(context, converted.errors, "converted", 1);

  std::string text =
      "# Converted by opctl convert from " + paths.front() + (paths.size() > 1 ? " and more" : "") + "\n";
  for (const v1::Object& object : converted.objects) text += "---\n" + ToYaml(object) + "\n";
  std::string destination = context.arguments.Get("output", "-");
  if (destination == "-") {
    context.out << text;
  } else {
    std::string stack = MetaOf(converted.objects.front()).stack();
    std::filesystem::create_directories(destination);
    std::string file = (std::filesystem::path(destination) / (stack + ".yaml")).string();
    std::ofstream out(file);
    if (!(out << text)) return Fail(context, absl::StrCat("cannot write ", file));
    context.out << "wrote " << file << " (" << converted.objects.size() << " objects)\n";
  }
  if (!converted.warnings.empty())
    context.err << "opctl: " << converted.warnings.size() << " warning(s): the fields named were left out or changed\n";
  return 0;
}

}  // namespace opctl::cli
