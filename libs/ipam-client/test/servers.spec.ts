/**
 * Server lists with credentials in their URLs, taken as other NATS clients take them, and shown
 * without them.
 */
import { IpamClientError, natsConnectionOptions, parseServers, redactUrls } from '../src/index.js';

describe('parseServers', () => {
  it('takes user and password out of the URL; the URL to show has *** for the password', () => {
    expect(parseServers('nats://alice:s3cret@10.0.0.1:4222')).toEqual({
      servers: ['nats://10.0.0.1:4222'],
      credentials: { user: 'alice', pass: 's3cret' },
      redacted: ['nats://alice:***@10.0.0.1:4222'],
    });
  });

  it('takes a URL with a user and no password as a token, shown as ***', () => {
    expect(parseServers('nats://t0ken@nats.example:4222')).toEqual({
      servers: ['nats://nats.example:4222'],
      credentials: { token: 't0ken' },
      redacted: ['nats://***@nats.example:4222'],
    });
  });

  it('decodes percent-encoded characters and takes a password with "@" to the last "@"', () => {
    expect(parseServers('nats://a%40b:p%2Fw%2Cx@h:1').credentials).toEqual({ user: 'a@b', pass: 'p/w,x' });
    const raw = parseServers('nats://u:p@ss:1234@h:4222');
    expect(raw.credentials).toEqual({ user: 'u', pass: 'p@ss:1234' });
    expect(raw.servers).toEqual(['nats://h:4222']);
    expect(raw.redacted).toEqual(['nats://u:***@h:4222']);
  });

  it('a numeric password is a password, not the port', () => {
    const p = parseServers('nats://u:1234@127.0.0.1:4333');
    expect(p.servers).toEqual(['nats://127.0.0.1:4333']);
    expect(p.credentials).toEqual({ user: 'u', pass: '1234' });
  });

  it('splits comma-separated lists and arrays; URLs without credentials stay as they are', () => {
    const p = parseServers(['nats://u:p@a:1, b:2', 'tls://u:p@c:3']);
    expect(p.servers).toEqual(['nats://a:1', 'b:2', 'tls://c:3']);
    expect(p.redacted).toEqual(['nats://u:***@a:1', 'b:2', 'tls://u:***@c:3']);
    expect(p.credentials).toEqual({ user: 'u', pass: 'p' });
    expect(parseServers('nats://127.0.0.1:4222')).toEqual({
      servers: ['nats://127.0.0.1:4222'],
      credentials: null,
      redacted: ['nats://127.0.0.1:4222'],
    });
  });

  it('refuses two URLs with different credentials, without showing either password', () => {
    let error: unknown;
    try {
      parseServers('nats://u:first-secret@a:1,nats://u:second-secret@b:2');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(IpamClientError);
    expect((error as IpamClientError).code).toBe('Config');
    expect((error as Error).message).toContain('nats://u:***@a:1,nats://u:***@b:2');
    expect((error as Error).message).not.toMatch(/first-secret|second-secret/);
  });
});

describe('redactUrls', () => {
  it.each([
    ['nats://user:pass@host:4222', 'nats://user:***@host:4222'],
    [
      'cannot connect to nats://u:pw@127.0.0.1:1,tls://tok@h:2: refused',
      'cannot connect to nats://u:***@127.0.0.1:1,tls://***@h:2: refused',
    ],
    ['{"url":"nats://u:p@ss@h:1"}', '{"url":"nats://u:***@h:1"}'],
    ['nats://127.0.0.1:4222 and mail@example.com', 'nats://127.0.0.1:4222 and mail@example.com'],
    ['no url at all', 'no url at all'],
  ])('%s', (text, shown) => {
    expect(redactUrls(text)).toBe(shown);
  });
});

describe('natsConnectionOptions', () => {
  it('passes the credentials of the URL as user and password, and the URL without them', () => {
    const o = natsConnectionOptions({ servers: 'nats://u:p@127.0.0.1:4222' });
    expect(o).toMatchObject({ servers: ['nats://127.0.0.1:4222'], user: 'u', pass: 'p' });
    expect(natsConnectionOptions({ servers: 'nats://tok@h:1' })).toMatchObject({ token: 'tok' });
    expect(natsConnectionOptions({ servers: 'h:1', user: 'u', pass: 'p' })).toMatchObject({
      user: 'u',
      pass: 'p',
    });
  });

  it('refuses credentials given two ways, and a creds file it cannot read (naming neither secret)', () => {
    expect(() => natsConnectionOptions({ servers: 'nats://u:zzsecret@h:1', token: 'other' })).toThrow(
      /credentials are given 2 ways \(the server URL, a token\); give one/,
    );
    expect(() => natsConnectionOptions({ credsFile: '/nonexistent/x.creds' })).toThrow(
      'cannot read the NATS credentials file /nonexistent/x.creds: ENOENT',
    );
  });
});
