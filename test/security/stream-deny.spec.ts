/**
 * The stream refuses purges and message deletions by its own configuration (deny_purge,
 * deny_delete, set by the service when it creates the stream), whatever the client's permissions:
 * here a server without any authorization, where every client may call every JetStream API.
 */
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { IpamService } from '../../apps/ipam/src/service.js';
import { startTestService, waitUntilLive } from '../support/ipam-service.js';
import { startTestNats, type TestNats } from '../support/nats.js';
import { publishInput, waitFor } from '../support/stream-audit.js';

const STREAM = 'IPAM_DENY';

let nats: TestNats;
let service: IpamService | undefined;
let jsm: JetStreamManager;

beforeAll(async () => {
  nats = await startTestNats();
  service = await startTestService(nats.url, { IPAM_STREAM: STREAM, IPAM_INSTANCE_ID: 'deny-1' });
  await waitUntilLive(service);
  jsm = await jetstreamManager(await nats.connect());
  const js = jsm.jetstream();
  await publishInput(js, 'ipam.lb.requested', { metadata: { namespace: 'default', name: 'web' } }, 'deny-1');
  // its outcome stored too, so there is something to purge
  await waitFor('the outcome of the input', async () => (await jsm.streams.info(STREAM)).state.messages >= 2);
}, 30_000);

afterAll(async () => {
  await service?.close().catch(() => undefined);
  await nats?.stop();
});

it('the service creates its stream with deny_delete and deny_purge', async () => {
  const info = await jsm.streams.info(STREAM);
  expect(info.config).toMatchObject({ deny_delete: true, deny_purge: true });
});

it('refuses a purge and a message deletion from a client allowed every API', async () => {
  const before = (await jsm.streams.info(STREAM)).state;
  expect(before.messages).toBeGreaterThanOrEqual(2); // the input and its outcome
  await expect(jsm.streams.purge(STREAM)).rejects.toThrow(/purge not permitted/i);
  await expect(jsm.streams.purge(STREAM, { filter: 'ipam.lb.requested' })).rejects.toThrow(
    /purge not permitted/i,
  );
  await expect(jsm.streams.deleteMessage(STREAM, 1)).rejects.toThrow(/delete not permitted/i);
  await expect(jsm.streams.deleteMessage(STREAM, 1, false)).rejects.toThrow(/delete not permitted/i);
  const after = (await jsm.streams.info(STREAM)).state;
  expect({ messages: after.messages, first: after.first_seq, last: after.last_seq }).toEqual({
    messages: before.messages,
    first: 1,
    last: before.last_seq,
  });
});
