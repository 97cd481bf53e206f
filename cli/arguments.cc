#include "cli/arguments.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace opctl::cli {

const std::vector<FlagSpec>& AllFlags() {
  // Each flag names the verbs that take it; none: every verb (connection and help).
  static const auto* flags = new std::vector<FlagSpec>{
      {"filename",
       'f',
       true,
       "manifest file, directory or - (repeatable)",
       {"apply", "diff", "delete", "convert", "export", "volume"}},
      {"output",
       'o',
       true,
       "yaml, json, wide or name; convert, export: a folder, or - for standard output",
       {"get", "convert", "export", "version", "volume"}},
      {"selector", 'l', true, "label selector, e.g. app=redis,tier!=cache", {"get", "top"}},
      {"watch", 'w', false, "after listing, print changes as they happen", {"get"}},
      {"for", 0, true, "get events: only those about this object, e.g. service/redis-master", {"get"}},
      {"field-selector",
       0,
       true,
       "get: metadata.name, and on events involvedObject.kind, involvedObject.name, reason, type (=, !=)",
       {"get"}},
      {"stack", 0, true, "only objects of this stack", {"get", "convert", "export", "top"}},
      {"to", 0, true, "export: compose, swarm or kubernetes", {"export"}},
      {"dry-run", 0, false, "validate and report, change nothing (--dry-run=client: no controller)", {"apply"}},
      {"replicas", 0, true, "desired replicas (scale)", {"scale"}},
      {"delete-data", 0, false, "delete: also remove a Volume's data on its hosts", {"delete"}},
      {"ignore-not-found", 0, false, "delete: an absent object is no error", {"delete"}},
      {"server",
       's',
       true,
       "controller address, or several as IP:PORT,IP:PORT (default $OPCTL_SERVER, server: in ~/.opctl/config, or "
       "127.0.0.1:7070)",
       {}},
      {"ca", 0, true, "CA certificate that signed the controller's (default $OPCTL_CA or ca: in ~/.opctl/config)", {}},
      {"token", 0, true, "bearer token (default $OPCTL_TOKEN or token: in ~/.opctl/config)", {}},
      {"insecure", 0, false, "plaintext to a controller started with --insecure (also $OPCTL_INSECURE=1)", {}},
      {"wait", 0, false, "apply: wait until every applied Service is ready", {"apply"}},
      {"prune",
       0,
       false,
       "apply: delete the objects of the applied stacks that the manifests no longer name (their data stays)",
       {"apply"}},
      {"timeout",
       0,
       true,
       "apply --wait, wait, rollout status, drain: how long to wait (default 120s; drain 5m)",
       {"apply", "wait", "rollout", "drain"}},
      {"follow", 0, false, "logs: keep streaming new output (-f)", {"logs"}},
      {"tail", 0, true, "logs: only the last N lines", {"logs"}},
      {"since", 0, true, "logs: only output newer than this duration, e.g. 10m", {"logs"}},
      {"timestamps", 0, false, "logs: prefix each line with its time", {"logs"}},
      {"node", 0, true, "volume backup/restore: the node that holds the volume", {"volume"}},
      {"force", 0, false, "volume restore: stop the containers using the volume, restore, start them", {"volume"}},
      {"client", 0, false, "version: only this CLI's, without asking the controller", {"version"}},
      {"stdin", 'i', false, "exec: pass stdin to the command", {"exec"}},
      {"tty", 't', false, "exec: give the command a terminal (raw mode, window resizes)", {"exec"}},
      {"replica", 0, true, "exec into service/NAME: the replica with this ordinal (default 0)", {"exec"}},
      {"address", 0, true, "port-forward: the local address to listen on (default 127.0.0.1)", {"port-forward"}},
      {"revision", 0, true, "rollout history: show this revision's template", {"rollout"}},
      {"to-revision", 0, true, "rollout undo: go back to this revision (default: the one before)", {"rollout"}},
      {"help", 'h', false, "show help", {}},
  };
  return *flags;
}

bool FlagSpec::TakenBy(const std::string& verb) const {
  return verbs.empty() || std::find(verbs.begin(), verbs.end(), verb) != verbs.end();
}

std::string FindVerb(const std::vector<std::string>& words) {
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& word = words[i];
    if (word == "--") return "";
    if (word == "-" || word.size() < 2 || word[0] != '-') return word;
    bool has_value = word.find('=') != std::string::npos || (word[1] != '-' && word.size() > 2);
    for (const FlagSpec& spec : AllFlags()) {
      bool named =
          word.rfind("--", 0) == 0 ? word.substr(2, word.find('=') - 2) == spec.name : word[1] == spec.short_name;
      if (named && spec.takes_value && !has_value) ++i;  // skip its value
    }
  }
  return "";
}

namespace {

absl::Status NotAFlagOf(const FlagSpec& spec, const std::string& verb) {
  std::vector<std::string> taken;
  for (const FlagSpec& other : AllFlags()) {
    if (!other.verbs.empty() && other.TakenBy(verb)) taken.push_back("--" + other.name);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "flag --", spec.name, " is not a flag of ", verb, ": ",
      taken.empty() ? std::string("it takes none but the connection's") : "its own are " + absl::StrJoin(taken, ", "),
      " (see opctl ", verb, " --help)"));
}

// The flag named `name` (long) or `short_name`, as `verb` reads it (for logs, -f is --follow).
const FlagSpec* FindFlag(const std::string& verb, std::string name, char short_name) {
  if (verb == "logs" && short_name == 'f') {
    name = "follow";
    short_name = 0;
  }
  for (const FlagSpec& spec : AllFlags()) {
    if ((!name.empty() && spec.name == name) || (short_name != 0 && spec.short_name == short_name)) return &spec;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<Arguments> Arguments::Parse(const std::vector<std::string>& words, const std::string& verb) {
  Arguments arguments;
  auto find = [&verb](const std::string& name, char short_name) { return FindFlag(verb, name, short_name); };
  auto record = [&](const FlagSpec& spec, std::string value) -> absl::Status {
    if (!verb.empty() && !spec.TakenBy(verb)) return NotAFlagOf(spec, verb);
    arguments.values_[spec.name].push_back(std::move(value));
    return absl::OkStatus();
  };
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& word = words[i];
    if (word == "--") {  // the rest is a command's, as exec's
      arguments.command_.assign(words.begin() + static_cast<long>(i) + 1, words.end());
      break;
    }
    if (word == "-" || word.size() < 2 || word[0] != '-') {
      arguments.positional_.push_back(word);
      continue;
    }
    const FlagSpec* spec = nullptr;
    std::string value;
    bool has_value = false;
    if (word.rfind("--", 0) == 0) {
      std::string name = word.substr(2);
      if (size_t equals = name.find('='); equals != std::string::npos) {
        value = name.substr(equals + 1);
        name = name.substr(0, equals);
        has_value = true;
      }
      spec = find(name, 0);
      if (spec == nullptr)
        return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name, " (see opctl --help)"));
    } else {
      spec = find("", word[1]);
      if (spec == nullptr)
        return absl::InvalidArgumentError(absl::StrCat("unknown flag ", word, " (see opctl --help)"));
      if (!spec->takes_value && word.size() > 2 && word[2] != '=') {  // -it: several switches at once
        for (char letter : word.substr(1)) {
          const FlagSpec* each = find("", letter);
          if (each == nullptr || each->takes_value) {
            return absl::InvalidArgumentError(absl::StrCat("flag ", word, ": -", std::string(1, letter),
                                                           " is not a switch that combines (see opctl --help)"));
          }
          if (absl::Status recorded = record(*each, ""); !recorded.ok()) return recorded;
        }
        continue;
      }
      if (word.size() > 2) {  // -owide, -f=x
        value = word.substr(word[2] == '=' ? 3 : 2);
        has_value = true;
      }
    }
    if (spec->takes_value && !has_value) {
      if (i + 1 >= words.size())
        return absl::InvalidArgumentError(absl::StrCat("flag --", spec->name, " needs a value"));
      value = words[++i];
    }
    if (absl::Status recorded = record(*spec, value); !recorded.ok()) return recorded;
  }
  return arguments;
}

std::string Arguments::Get(const std::string& name, const std::string& fallback) const {
  auto found = values_.find(name);
  return found == values_.end() || found->second.empty() ? fallback : found->second.back();
}

std::string Arguments::Optional(const std::string& name, const std::string& bare) const {
  if (!Has(name)) return "";
  std::string value = Get(name);
  return value.empty() ? bare : value;
}

std::vector<std::string> Arguments::GetAll(const std::string& name) const {
  auto found = values_.find(name);
  return found == values_.end() ? std::vector<std::string>{} : found->second;
}

}  // namespace opctl::cli
