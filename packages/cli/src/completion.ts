import type { Command } from 'commander';

function flags(cmd: Command): string[] {
  return cmd.options.flatMap((o) => [o.short, o.long].filter((f): f is string => Boolean(f))).concat('--help');
}

/**
 * Generated from the command tree, so it never lists a command or option that does not exist.
 * zsh uses the same function through bashcompinit, which every zsh ships.
 */
export function completionScript(program: Command, shell: 'bash' | 'zsh'): string {
  const globals = flags(program).filter((f) => f !== '--help');
  const cases: string[] = [];
  const top = program.commands.map((c) => c.name());
  cases.push(`    "") words="${[...top, ...flags(program)].join(' ')}" ;;`);
  for (const c of program.commands) {
    const subs = c.commands.map((s) => s.name());
    cases.push(`    "${c.name()}") words="${[...subs, ...flags(c), ...globals].join(' ')}" ;;`);
    for (const s of c.commands) cases.push(`    "${c.name()} ${s.name()}") words="${[...flags(s), ...globals].join(' ')}" ;;`);
  }
  const bash = `_trainctl() {
  local cur prev path="" w i words=""
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
    -o|--output) COMPREPLY=( $(compgen -W "table json yaml" -- "$cur") ); return ;;
    completion) COMPREPLY=( $(compgen -W "bash zsh" -- "$cur") ); return ;;
    --status) COMPREPLY=( $(compgen -W "Initializing Queuing Running Successful Stopping Stopped" -- "$cur") ); return ;;
    -d|--download) COMPREPLY=( $(compgen -d -- "$cur") ); return ;;
  esac
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in
      -*) ;;
      *) case "\${path:+$path }$w" in
${[...program.commands.map((c) => c.name()), ...program.commands.flatMap((c) => c.commands.map((s) => `${c.name()} ${s.name()}`))].map((p) => `           "${p}") path="${p}" ;;`).join('\n')}
         esac ;;
    esac
  done
  case "$path" in
${cases.join('\n')}
  esac
  if [[ "$cur" == -* || -n "\${words// /}" && "$path" == "" ]]; then
    COMPREPLY=( $(compgen -W "$words" -- "$cur") )
  else
    COMPREPLY=( $(compgen -W "$words" -- "$cur") $(compgen -f -- "$cur") )
  fi
}
complete -o filenames -F _trainctl trainctl
`;
  if (shell === 'bash') return `# trainctl completion for bash: source <(trainctl completion bash)\n${bash}`;
  return `#compdef trainctl
# trainctl completion for zsh: trainctl completion zsh > "\${fpath[1]}/_trainctl" (or source it)
autoload -U +X bashcompinit && bashcompinit
${bash}`;
}
