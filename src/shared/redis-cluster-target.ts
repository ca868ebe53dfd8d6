/** A Redis Cluster node as `host:port` (a host name, an IPv4 address or a bracketed IPv6 one). */
export const CLUSTER_NODE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

export interface ClusterNode {
  host: string;
  port: number;
}

/** Where a Redis Cluster is: its seed nodes, and the credentials a `redis+cluster://` URL holds. */
export interface ClusterUrl {
  nodes: ClusterNode[];
  tls: boolean;
  username?: string;
  password?: string;
}

/** Parses `host:port`; throws a RangeError naming the node when it is not one. */
export function parseClusterNode(node: string): ClusterNode {
  const match = CLUSTER_NODE.exec(node);
  const port = Number(match?.[1]);
  if (!match || port < 1 || port > 65_535) {
    throw new RangeError(`Expected a cluster node as host:port, got \`${node}\``);
  }
  const host = node.slice(0, node.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1');
  return { host, port };
}

/** True for the URL forms that name a Redis Cluster. */
export function isClusterUrl(url: string): boolean {
  return /^rediss?\+cluster:\/\//.test(url);
}

/**
 * `redis+cluster://[user:password@]host:port[,host:port...]` (`rediss+cluster://` for TLS).
 * The WHATWG URL parser refuses a comma-separated host list, hence the hand-written split.
 */
export function parseClusterUrl(url: string): ClusterUrl {
  const match = /^(rediss?)\+cluster:\/\/(?:([^@/]*)@)?([^/?#]*)\/?$/.exec(url);
  if (!match) throw new RangeError('Expected redis+cluster://host:port[,host:port...]');
  const [, scheme, userInfo, hosts = ''] = match;
  const list = hosts.split(',').filter((node) => node !== '');
  if (list.length === 0) throw new RangeError('Expected at least one host:port in the URL');
  const [user = '', password] = (userInfo ?? '').split(/:(.*)/s);
  return {
    nodes: list.map(parseClusterNode),
    tls: scheme === 'rediss',
    ...(user ? { username: decodeURIComponent(user) } : {}),
    ...(password ? { password: decodeURIComponent(password) } : {}),
  };
}
