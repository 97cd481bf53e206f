// opctl completion bash|zsh: a completion script for the shell. Verbs, kinds and flags are written
// into it from this binary; object names are asked of the controller as the user types
// (`opctl get KIND -o name`, with the user's own server and credentials).
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/commands/commands.h"
#include "common/object.h"

namespace opctl::cli {
namespace {

constexpr char kBashScript[] = R"bash(
_opctl_names() {  # the names the controller holds of kind $1
  opctl get "$1" -o name 2>/dev/null | sed 's#^[^/]*/##'
}
_opctl() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} verb="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    [[ ${COMP_WORDS[i]} != -* ]] && { verb=${COMP_WORDS[i]}; break; }
  done
  case $prev in
    -f | --filename) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    -o | --output) COMPREPLY=($(compgen -W "yaml json wide name" -- "$cur")); return ;;
    --to) COMPREPLY=($(compgen -W "compose swarm kubernetes" -- "$cur")); return ;;
    --stack) COMPREPLY=($(compgen -W "$(opctl get all -o yaml 2>/dev/null | sed -n 's/^  stack: //p' | sort -u)" -- "$cur")); return ;;
  esac
  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$_opctl_flags" -- "$cur")); return; fi
  if [[ -z $verb ]]; then COMPREPLY=($(compgen -W "$_opctl_verbs" -- "$cur")); return; fi
  case $verb:$prev in
    completion:completion) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")); return ;;
    rollout:rollout) COMPREPLY=($(compgen -W "restart status history undo" -- "$cur")); return ;;
    volume:volume) COMPREPLY=($(compgen -W "backup restore" -- "$cur")); return ;;
    volume:backup | volume:restore) COMPREPLY=($(compgen -W "$(_opctl_names volumes)" -- "$cur")); return ;;
    cordon:* | uncordon:* | drain:*) COMPREPLY=($(compgen -P node/ -W "$(_opctl_names nodes)" -- "${cur#node/}")); return ;;
  esac
  if [[ $cur == */* ]]; then
    COMPREPLY=($(compgen -P "${cur%%/*}/" -W "$(_opctl_names "${cur%%/*}")" -- "${cur#*/}"))
    return
  fi
  if [[ " $_opctl_kinds " == *" $prev "* ]]; then COMPREPLY=($(compgen -W "$(_opctl_names "$prev")" -- "$cur")); return; fi
  COMPREPLY=($(compgen -W "$_opctl_kinds" -- "$cur"))
}
complete -F _opctl opctl
)bash";

}  // namespace

const std::vector<std::string>& Verbs() {
  static const auto* verbs = new std::vector<std::string>{
      "apply", "diff", "get",  "describe",     "delete", "scale",   "rollout", "cordon", "uncordon", "drain",
      "wait",  "logs", "exec", "port-forward", "top",    "convert", "export",  "volume", "version",  "completion"};
  return *verbs;
}

int RunCompletion(CommandContext& context) {
  const std::vector<std::string>& words = context.arguments.positional();
  std::string shell = words.empty() ? "" : words[0];  // the words after the verb
  if (shell != "bash" && shell != "zsh") return Fail(context, "completion needs a shell: bash or zsh", 2);
  std::vector<std::string> kinds, flags;
  for (const KindInfo& kind : AllKinds()) {
    for (const std::string& name : {kind.singular, kind.plural, kind.short_name}) kinds.push_back(name);
  }
  for (const FlagSpec& flag : AllFlags()) {
    flags.push_back("--" + flag.name);
    if (flag.short_name) flags.push_back(std::string("-") + flag.short_name);
  }
  context.out << (shell == "zsh" ? "#compdef opctl\n# opctl completion for zsh: source <(opctl completion zsh)\n"
                                   "autoload -U +X bashcompinit && bashcompinit\n"
                                 : "# opctl completion for bash: source <(opctl completion bash)\n")
              << "_opctl_verbs=\"" << absl::StrJoin(Verbs(), " ") << "\"\n"
              << "_opctl_kinds=\"" << absl::StrJoin(kinds, " ") << "\"\n"
              << "_opctl_flags=\"" << absl::StrJoin(flags, " ") << "\"" << kBashScript;
  return 0;
}

}  // namespace opctl::cli
