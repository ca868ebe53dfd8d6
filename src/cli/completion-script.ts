import type { Command, Option } from 'commander';

/** Option values worth offering (the rest are free text or files). */
const CHOICES: Readonly<Record<string, readonly string[]>> = {
  '--scan-type': ['Quick', 'Full'],
  '--format': ['csv', 'json', 'ndjson'],
  '--state': ['running', 'paused', 'finished', 'cancelled'],
  '--log-format': ['auto', 'json', 'pretty'],
};
/** Options whose value is a file name. */
const FILES = new Set([
  '--config',
  '--devices',
  '--out',
  '--machines',
  '--certificate',
  '--call-log',
]);

interface CommandWords {
  name: string;
  options: string[];
}

function optionWords(options: readonly Option[]): string[] {
  return options.flatMap((o) => [o.long, o.short]).filter((w): w is string => w !== undefined);
}

/** Options that take a value (their next word is not a command). */
function valueOptions(program: Command): string[] {
  const all = [program, ...program.commands].flatMap((c) => c.options);
  return [
    ...new Set(
      all
        .filter((o) => o.required || o.optional)
        .flatMap((o) => [o.long, o.short])
        .filter((w): w is string => w !== undefined),
    ),
  ].sort();
}

function commandsOf(program: Command): CommandWords[] {
  return program.commands.map((c) => ({
    name: c.name(),
    options: [...optionWords(c.options), '--help'],
  }));
}

/** A bash completion script for `program`, generated from its commands and options. */
export function bashCompletion(program: Command): string {
  const name = program.name();
  const fn = `_${name.replace(/\W/g, '_')}_complete`;
  const globals = [...new Set([...optionWords(program.options), '--help', '--version'])];
  const cases = commandsOf(program)
    .map((c) => `    ${c.name}) words="${c.options.join(' ')}" ;;`)
    .join('\n');
  const choices = Object.entries(CHOICES)
    .map(
      ([option, values]) =>
        `    ${option}) COMPREPLY=($(compgen -W "${values.join(' ')}" -- "$cur")); return ;;`,
    )
    .join('\n');
  return `# bash completion for ${name}: source <(${name} completion bash)
${fn}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} cmd="" words i
  case "$prev" in
${choices}
    ${[...FILES].join('|')}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      ${valueOptions(program).join('|')}) ((i++)) ;;
      -*) ;;
      *) cmd=\${COMP_WORDS[i]}; break ;;
    esac
  done
  case "$cmd" in
    "") words="${commandsOf(program)
      .map((c) => c.name)
      .join(' ')} ${globals.join(' ')}" ;;
${cases}
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F ${fn} ${name}
`;
}

/** A zsh completion script for `program` (`#compdef`), generated from its commands and options. */
export function zshCompletion(program: Command): string {
  const name = program.name();
  const quote = (text: string) => text.replace(/'/g, "'\\''").replace(/[[\]:]/g, '\\$&');
  const spec = (o: Option) => {
    const flag = o.long ?? o.short ?? '';
    const values = CHOICES[flag];
    const value = values
      ? `:${flag.slice(2)}:(${values.join(' ')})`
      : FILES.has(flag)
        ? `:file:_files`
        : o.required || o.optional
          ? `:${flag.slice(2)}:`
          : '';
    return `'${flag}[${quote(o.description)}]${value}'`;
  };
  const commands = program.commands
    .map((c) => `    '${c.name()}:${quote(c.description())}'`)
    .join('\n');
  const cases = program.commands
    .map(
      (c) =>
        `      ${c.name()}) _arguments ${[...c.options.map(spec), "'--help[show help]'"].join(' ')} '*:argument:_files' ;;`,
    )
    .join('\n');
  return `#compdef ${name}
# zsh completion for ${name}: ${name} completion zsh > "\${fpath[1]}/_${name}"
_${name}() {
  local -a commands
  commands=(
${commands}
  )
  _arguments -C ${program.options.map(spec).join(' ')} '--help[show help]' '--version[show the version]' '1:command:->command' '*::argument:->argument'
  case $state in
    command) _describe 'command' commands ;;
    argument)
      case $words[1] in
${cases}
      esac ;;
  esac
}
_${name} "$@"
`;
}
