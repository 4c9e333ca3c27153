import { handle, initialState, poolView, IpamCommand } from '../src/index.js';

let seq = 0;
const cmd = (type: IpamCommand['type'], data: unknown): IpamCommand => ({ type, data, meta: { seq: ++seq, id: null } }) as IpamCommand;

describe('smoke', () => {
  it('worked example /24', () => {
    const s = initialState();
    const e1 = handle(cmd('CreatePool', { pool: { metadata: { name: 'p' }, spec: { ranges: [{ subnet: '10.0.0.0/24' }], selector: { scope: { namespace: 'default' } } } } }), s);
    expect(e1[0].type).toBe('PoolAccepted');
    const req = (n: string) => handle(cmd('RequestLoadBalancer', { loadBalancer: { metadata: { namespace: 'default', name: n } } }), s)[0];
    expect(['a', 'b', 'c'].map((n) => (req(n).data as { ip: string }).ip)).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.4']);
    expect(handle(cmd('DeleteLoadBalancer', { body: { metadata: { namespace: 'default', name: 'a' } } }), s)[0].type).toBe('IPReleased');
    expect((req('d').data as { ip: string }).ip).toBe('10.0.0.5');
    expect(req('a').data).toMatchObject({ ip: '10.0.0.2', fromHistory: true, mask: '255.255.255.0', gateway: '10.0.0.1' });
    expect(poolView(s.pools.get('p')!).status).toMatchObject({ total: 253, available: 249, lastAllocated: '10.0.0.2' });
  });
});
