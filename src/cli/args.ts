/**
 * The CLI's argv grammar: positionals, `--flag value`, `--flag=value`, switches and repeated flags,
 * and the checks a command makes of them. A UsageError is answered with the command's usage and
 * exit code 2.
 */
export class UsageError extends Error {}

export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
  /** Every value of a flag given more than once (`--add a --add b`). */
  repeated: Map<string, string[]>;
}

export function parseArgs(argv: string[]): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  const repeated = new Map<string, string[]>();
  const set = (name: string, value: string | true) => {
    flags.set(name, value);
    if (value !== true) repeated.set(name, [...(repeated.get(name) ?? []), value]);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith("--")) {
      const [name, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      if (inline !== undefined) set(name, inline);
      else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith("--")) set(name, argv[++i]!);
      else set(name, true);
    } else if (a === "-h") flags.set("help", true);
    else positional.push(a);
  }
  return { positional, flags, repeated };
}

export function flagValue(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  if (v === true) throw new UsageError(`--${name} needs a value`);
  return v;
}

export function onlyFlags(args: ParsedArgs, allowed: string[]): void {
  for (const name of args.flags.keys()) {
    if (!allowed.includes(name) && name !== "help") throw new UsageError(`unknown option --${name}`);
  }
}

/** A flag that takes no value (`--dry-run`, `--json`). */
export function switchFlag(args: ParsedArgs, name: string): boolean {
  const v = args.flags.get(name);
  if (v === undefined) return false;
  if (v !== true) throw new UsageError(`--${name} takes no value (got "${v}")`);
  return true;
}

export function noPositional(args: ParsedArgs, max = 0): void {
  if (args.positional.length > max) {
    throw new UsageError(`unexpected argument "${args.positional[max]}"`);
  }
}
