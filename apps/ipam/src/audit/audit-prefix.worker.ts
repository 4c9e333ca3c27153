/**
 * Worker thread: builds the audit read model of the stream 1..upTo (audit-prefix.ts) over a NATS
 * connection of its own and posts it as columns (typed arrays transferred, not copied); the service's
 * thread turns them back into a model. workerData: { config: IpamEnv (as plain data), upTo }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { EventStore } from '../../../../libs/jetstream/src/index.js';
import type { IpamEnv } from '../config/ipam.config.js';
import { createLogger } from '../logging/logger.js';
import { connectNats } from '../nats.connect.js';
import { foldPrefix } from './audit-prefix.js';

const { config, upTo } = workerData as { config: IpamEnv; upTo: number };

async function main(): Promise<void> {
  const logger = createLogger('error', `${config.IPAM_INSTANCE_ID}-audit`);
  const nc = await connectNats(config, logger);
  try {
    const model = await foldPrefix(new EventStore(nc, config.IPAM_STREAM), config.IPAM_MAX_BODY_BYTES, upTo);
    const columns = model!.projection.toColumns();
    const seqs = Float64Array.from(model!.seqs);
    const times = Float64Array.from(model!.times);
    const transfer = [...columns.ints, ...columns.floats, ...columns.rInts, columns.rAt, seqs, times].map(
      (a) => a.buffer as ArrayBuffer,
    );
    parentPort!.postMessage({ columns, seqs, times }, transfer);
  } finally {
    await nc.close();
  }
}

main().catch((e: unknown) => {
  parentPort!.postMessage({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
});
