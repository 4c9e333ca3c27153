/* global process, console */
// Ask for an address for a load balancer from a pipeline, and read the answer.
// Run it after `npm run build`: NATS_URL=nats://user:pass@nats.example:4222 node docs/examples/integrate.mjs default/web
import { connectIpam } from '../../dist/libs/ipam-client/src/index.js';

const [namespace, name] = (process.argv[2] ?? 'default/web').split('/');
const ipam = await connectIpam({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });
try {
  // LBRequested with a Nats-Msg-Id (a retry with the same msgId is stored once), then its outcome
  const { seq, outcome } = await ipam.publishAndWait(
    'ipam.lb.requested',
    { metadata: { namespace, name }, spec: { workloadType: 'vm' } },
    { msgId: `pipeline-${namespace}-${name}` },
  );
  if (outcome.subject === 'ipam.ip.allocated') {
    const { ip, mask, gateway, ipPool } = outcome.body;
    console.log(`${namespace}/${name} ${ip} ${mask} ${gateway ?? '-'} ${ipPool} (input seq ${seq})`);
  } else {
    console.error(`${namespace}/${name} rejected: ${outcome.body.code}: ${outcome.body.reason}`);
    process.exitCode = 1;
  }
} finally {
  await ipam.close();
}
