/**
 * `ipam delete pool NAME...`: publishes PoolDeleted and waits for its outcome.
 */
import { CliIo, EXIT_FAILED, EXIT_OK, println, UsageError } from '../io.js';
import { isQueryError, withClient } from '../nats-client.js';
import { GLOBAL_HELP, parseCommand } from '../options.js';

export const DELETE_USAGE = `Usage: ipam delete pool NAME [NAME ...]

Deletes pools: publishes PoolDeleted for each and waits for its outcome. A pool that still has
allocated addresses is not deleted (PoolInUse); its history does not block it. Prints
  ippool/NAME deleted | ippool/NAME rejected: CODE: reason
and exits 1 if any pool was not found or not deleted.

Options:
${GLOBAL_HELP}`;

export async function deleteCommand(args: string[], io: CliIo): Promise<number> {
  const p = parseCommand(args, {}, io, DELETE_USAGE, 'delete');
  if (!p) return EXIT_OK;
  const [kind, ...names] = p.positionals;
  if (kind === undefined) throw new UsageError('say what to delete: pool NAME', 'delete');
  if (!['pool', 'pools', 'ippool', 'ippools'].includes(kind)) {
    throw new UsageError(
      `cannot delete "${kind}"; use pool NAME (release a load balancer with ipam release lb)`,
      'delete',
    );
  }
  if (names.length === 0) throw new UsageError('give the name of the pool to delete', 'delete');
  return withClient(p.global, io, async (client) => {
    let failed = 0;
    for (const name of names) {
      const existing = await client.query('pool', { name });
      if (isQueryError(existing) && existing.error.code === 'UnknownPool') {
        println(io.stderr, `error: ippool/${name} not found`);
        failed++;
        continue;
      }
      const { outcome } = await client.publishAndWait('ipam.pool.deleted', { metadata: { name } });
      if (outcome.subject === 'ipam.pool.accepted') {
        println(io.stdout, `ippool/${name} deleted`);
      } else {
        println(io.stderr, `ippool/${name} rejected: ${outcome.body.code}: ${outcome.body.reason}`);
        failed++;
      }
    }
    return failed > 0 ? EXIT_FAILED : EXIT_OK;
  });
}
