/**
 * The four IPPool examples of the Harvester "IP Pool" doc page (docs.harvesterhci.io), as JSON,
 * exactly as the YAML there: the doc page's apiVersion, `scope` as a single object, `cluster` for the
 * guest cluster.
 */
export const DOC_EXAMPLE_1 = {
  apiVersion: 'networking.harvesterhci.io/v1beta1',
  kind: 'IPPool',
  metadata: { name: 'default-ip-pool' },
  spec: {
    ranges: [{ subnet: '192.168.100.0/24' }],
    selector: { scope: { namespace: 'default' } },
  },
};

export const DOC_EXAMPLE_2 = {
  apiVersion: 'networking.harvesterhci.io/v1beta1',
  kind: 'IPPool',
  metadata: { name: 'rke2-ip-pool' },
  spec: {
    ranges: [{ subnet: '192.168.10.0/24', rangeStart: '192.168.10.10', rangeEnd: '192.168.10.20' }],
    selector: {
      network: 'default/vlan1',
      scope: { project: 'product', namespace: 'default', cluster: 'rke2' },
    },
  },
};

export const DOC_EXAMPLE_3 = {
  apiVersion: 'networking.harvesterhci.io/v1beta1',
  kind: 'IPPool',
  metadata: { name: 'default-ip-pool-2' },
  spec: {
    ranges: [{ subnet: '192.168.200.0/24' }],
    selector: { priority: 1, scope: { namespace: 'default' } },
  },
};

export const DOC_EXAMPLE_4 = {
  apiVersion: 'networking.harvesterhci.io/v1beta1',
  kind: 'IPPool',
  metadata: { name: 'global-ip-pool' },
  spec: {
    ranges: [{ subnet: '192.168.20.0/24' }],
    selector: { scope: { project: '*', namespace: '*', cluster: '*' } },
  },
};

export const DOC_EXAMPLES = [DOC_EXAMPLE_1, DOC_EXAMPLE_2, DOC_EXAMPLE_3, DOC_EXAMPLE_4];

/** A LoadBalancer object of the contract. */
export function loadBalancer(
  namespace: string,
  name: string,
  annotations?: Record<string, string>,
  spec?: Record<string, string>,
): Record<string, unknown> {
  return {
    metadata: { namespace, name, ...(annotations ? { annotations } : {}) },
    ...(spec ? { spec } : {}),
  };
}

/** The guest cluster of doc example 2: network default/vlan1, project/namespace product/default, cluster rke2. */
export const RKE2_ANNOTATIONS = {
  'loadbalancer.harvesterhci.io/network': 'default/vlan1',
  'loadbalancer.harvesterhci.io/project': 'product',
  'loadbalancer.harvesterhci.io/namespace': 'default',
  'loadbalancer.harvesterhci.io/cluster': 'rke2',
};

export const lbRef = (namespace: string, name: string) => ({ metadata: { namespace, name } });
export const poolRef = (name: string) => ({ metadata: { name } });
