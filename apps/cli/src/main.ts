/**
 * `ipam`: the operator CLI of the IPAM service. It speaks NATS directly: the service's queries
 * (request/reply) and the IPAM stream (inputs published with a Nats-Msg-Id, outcomes read back).
 *
 * `run(argv, io)` runs one command line and resolves with the exit code (0 ok, 1 rejected / diverged /
 * not found / failed, 2 usage); bin/ipam.mjs calls `main()`.
 */
import {
  CliError,
  CliIo,
  EXIT_FAILED,
  EXIT_OK,
  EXIT_USAGE,
  printError,
  println,
  processIo,
  UsageError,
} from './io.js';
import { GLOBAL_HELP } from './options.js';

export type Command = (args: string[], io: CliIo) => Promise<number>;

/** The commands, loaded when used (so that `ipam --help` or `ipam get` do not load the replay machinery). */
export const COMMANDS: Record<string, () => Promise<Command>> = {
  apply: async () => (await import('./commands/apply.js')).applyCommand,
  diff: async () => (await import('./commands/diff.js')).diffCommand,
  get: async () => (await import('./commands/get.js')).getCommand,
  delete: async () => (await import('./commands/delete.js')).deleteCommand,
  request: async () => (await import('./commands/request.js')).requestCommand,
  release: async () => (await import('./commands/release.js')).releaseCommand,
  audit: async () => (await import('./commands/audit.js')).auditCommand,
  replay: async () => (await import('./commands/replay.js')).replayCommand,
  migrate: async () => (await import('./commands/migrate.js')).migrateCommand,
  completion: async () => (await import('./commands/completion.js')).completionCommand,
};

export const USAGE = `Usage: ipam COMMAND [options]

The operator CLI of the IPAM service (Harvester IP pool semantics on NATS JetStream). It talks to NATS
directly: the service's queries, and the IPAM stream where every input and outcome is recorded.

Commands:
  apply -f FILE                        create or update IP pools from YAML or JSON
                                       (--dry-run=server: what would happen, nothing published)
  diff -f FILE                         how the pools of a file differ from the live ones
  get pools | pool NAME | lbs | lb NAME
                                       show pools, load balancers, or the address one holds
                                       (-o wide|name|json|yaml; lbs: -n NS, -A, --pool POOL)
  delete pool NAME                     delete a pool
  request lb NS/NAME                   ask for an address for a load balancer
  release lb NS/NAME | ip IP           release a load balancer's address; force-release an address
  audit address IP | lb NS/NAME        who held an address and when; what a load balancer held
  replay --verify                      re-decide every recorded input and compare with the stream
  migrate vip-pools --setting FILE     migrate Harvester's deprecated vip-pools setting
  completion bash|zsh                  print a shell completion script (source <(ipam completion bash))

Run 'ipam COMMAND --help' for the options of a command; 'ipam --version' prints the version.
Exit codes: 0 ok, 1 rejected, diverged, not found or failed, 2 usage error.

${GLOBAL_HELP}`;

const VALUE_OPTIONS = new Set(['--server', '--stream', '--timeout']);

/** Finds the command word: global options may come before it. */
function locateCommand(argv: string[]): { index: number; help: boolean; version: boolean } {
  let help = false;
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (VALUE_OPTIONS.has(a)) {
      i++;
      continue;
    }
    if ([...VALUE_OPTIONS].some((o) => a.startsWith(`${o}=`))) continue;
    if (a === '-h' || a === '--help') {
      help = true;
      continue;
    }
    if (a === '--version') {
      version = true;
      continue;
    }
    if (a.startsWith('-')) throw new UsageError(`unknown option "${a}" before the command`);
    return { index: i, help, version };
  }
  return { index: -1, help, version };
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  let commandName: string | undefined;
  try {
    const { index, help, version } = locateCommand(argv);
    if (version && index < 0 && !help) {
      println(io.stdout, (await import('./version.js')).versionLine(io.env));
      return EXIT_OK;
    }
    if (version) throw new UsageError('--version takes no command: ipam --version');
    if (index < 0) {
      if (help) {
        println(io.stdout, USAGE);
        return EXIT_OK;
      }
      println(io.stderr, USAGE);
      printError(io, 'no command given');
      return EXIT_USAGE;
    }
    commandName = argv[index];
    const rest = [...argv.slice(0, index), ...argv.slice(index + 1)];
    if (commandName === 'help') {
      const topic = rest.find((a) => !a.startsWith('-'));
      if (topic === undefined) {
        println(io.stdout, USAGE);
        return EXIT_OK;
      }
      if (!Object.prototype.hasOwnProperty.call(COMMANDS, topic))
        throw new UsageError(`unknown command "${topic}"`);
      return await (
        await COMMANDS[topic]()
      )(['--help'], io);
    }
    if (!Object.prototype.hasOwnProperty.call(COMMANDS, commandName)) {
      const name = commandName;
      commandName = undefined;
      throw new UsageError(`unknown command "${name}"`);
    }
    return await (
      await COMMANDS[commandName]()
    )(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      const cmd = e.command ?? commandName;
      printError(io, `${e.message} (see 'ipam ${cmd ? `${cmd} ` : ''}--help')`);
      return EXIT_USAGE;
    }
    if (e instanceof CliError) {
      printError(io, e.message);
      return EXIT_FAILED;
    }
    printError(io, e instanceof Error ? e.message : String(e));
    return EXIT_FAILED;
  }
}

/** The process entry point (bin/ipam.mjs). */
export function main(argv: string[] = process.argv.slice(2), io: CliIo = processIo()): Promise<number> {
  return run(argv, io);
}
