/** A small router over the History API: the console's pages are paths the service answers with index.html. */
import { reactive } from 'vue';

export const route = reactive({ path: location.pathname, search: location.search });

/** A message for the next page ("Pool x created."), cleared by the navigation after it. */
export const notice = reactive({ text: '' });

export type Match =
  | { page: 'pools' }
  | { page: 'pool-new' }
  | { page: 'pool'; name: string }
  | { page: 'pool-edit'; name: string }
  | { page: 'loadbalancers' }
  | { page: 'audit' }
  | { page: 'audit-address'; ip: string }
  | { page: 'audit-lb'; namespace: string; name: string }
  | { page: 'not-found' };

const dec = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

export function match(path: string): Match {
  const parts = path.replace(/\/+$/, '').split('/').slice(1).map(dec);
  const [a, b, c, d, e] = parts;
  if (parts.length === 0 || (parts.length === 1 && (a === '' || a === 'pools'))) return { page: 'pools' };
  if (a === 'pools' && parts.length === 2) return b === 'new' ? { page: 'pool-new' } : { page: 'pool', name: b };
  if (a === 'pools' && parts.length === 3 && c === 'edit') return { page: 'pool-edit', name: b };
  if (a === 'loadbalancers' && parts.length === 1) return { page: 'loadbalancers' };
  if (a === 'audit' && parts.length === 1) return { page: 'audit' };
  if (a === 'audit' && b === 'addresses' && parts.length === 3) return { page: 'audit-address', ip: c };
  if (a === 'audit' && b === 'loadbalancers' && parts.length === 4) return { page: 'audit-lb', namespace: c, name: d };
  void e;
  return { page: 'not-found' };
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  const url = new URL(to, location.href);
  if (opts.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  notice.text = '';
  route.path = url.pathname;
  route.search = url.search;
  window.scrollTo(0, 0);
}

window.addEventListener('popstate', () => {
  route.path = location.pathname;
  route.search = location.search;
});

const e = encodeURIComponent;
export const paths = {
  pools: () => '/pools',
  poolNew: () => '/pools/new',
  pool: (name: string) => `/pools/${e(name)}`,
  poolEdit: (name: string) => `/pools/${e(name)}/edit`,
  loadBalancers: (q: { namespace?: string; pool?: string } = {}) => {
    const s = new URLSearchParams(Object.entries(q).filter(([, v]) => v) as [string, string][]).toString();
    return `/loadbalancers${s ? `?${s}` : ''}`;
  },
  audit: () => '/audit',
  address: (ip: string) => `/audit/addresses/${e(ip)}`,
  loadBalancer: (key: string) => {
    const [ns, ...rest] = key.split('/');
    return `/audit/loadbalancers/${e(ns)}/${e(rest.join('/'))}`;
  },
};
