import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction, type Socket } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * FANOUT_DESTINATION_DENY's default: link-local addresses, where every major cloud serves
 * instance metadata and credentials (169.254.169.254 on AWS, GCP, Azure, OCI, DigitalOcean),
 * and the metadata addresses outside it: AWS's IPv6 one, Alibaba Cloud's, Azure's WireServer.
 */
export const DEFAULT_DENIED_RANGES: readonly string[] = ['169.254.0.0/16', 'fe80::/10', 'fd00:ec2::254/128', '100.100.100.200/32', '168.63.129.16/32'];

/** The `code` of a DestinationDeniedError. */
export const DESTINATION_DENIED = 'ERR_DESTINATION_DENIED';

/** A destination resolved to, or connected to, an address the network guard denies. A delivery that meets it is dead-lettered at once. */
export class DestinationDeniedError extends Error {
  readonly code = DESTINATION_DENIED;
  readonly address: string;

  constructor(address: string) {
    super(`destination address ${address} is denied`);
    this.name = 'DestinationDeniedError';
    this.address = address;
  }
}

/** Whether an error is the guard's refusal; by its code, since a client may hand it back from another realm (node:net under a test runner's VM). */
export function isDestinationDenied(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === DESTINATION_DENIED;
}

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/**
 * Parses a CIDR list entry (`10.0.0.0/8`, `fe80::/10`, or a single address); throws naming
 * the entry. An IPv4-mapped IPv6 range is read as the IPv4 range it maps.
 */
export function parseAddressRange(entry: string): Range {
  const [address = '', bits] = entry.split('/');
  const valid = bits === undefined ? ipaddr.isValid(address) : ipaddr.isValidCIDR(entry);
  // Four-part decimal only: `127.1` and `0x7f.0.0.1` are addresses to inet_aton, and typos here.
  if (!valid || (ipaddr.IPv4.isIPv4(address) && !ipaddr.IPv4.isValidFourPartDecimal(address))) throw new Error(`"${entry}" is not an IP address or CIDR range`);
  const [base, prefix] = bits === undefined ? ((parsed) => [parsed, parsed.kind() === 'ipv4' ? 32 : 128] as Range)(ipaddr.parse(address)) : ipaddr.parseCIDR(entry);
  if (base.kind() === 'ipv6' && (base as ipaddr.IPv6).isIPv4MappedAddress() && prefix >= 96) return [(base as ipaddr.IPv6).toIPv4Address(), prefix - 96];
  return [base, prefix];
}

/** The address as the guard judges it: without a zone (`fe80::1%eth0` says only which interface), an IPv4-mapped one as its IPv4; undefined when it is no address. */
function canonical(address: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const bare = address.replace(/%.*$/, '');
  return ipaddr.isValid(bare) ? ipaddr.process(bare) : undefined;
}

export interface NetworkGuardOptions {
  /** CIDR ranges (or single addresses) no destination may connect to; it wins over `allow`. Default DEFAULT_DENIED_RANGES. */
  readonly deny?: readonly string[];
  /** When not empty, the only ranges destinations may connect to. Default empty: everything not denied. */
  readonly allow?: readonly string[];
  /** How host names are resolved. Default `dns.lookup`, what node:net itself uses. */
  readonly resolve?: LookupFunction;
}

/**
 * The destination network guard: which addresses destinations may connect to. Every kind's
 * client applies it to the address it actually connects to, after DNS resolution, on every
 * connection, so a name that resolves (or is rebound) to a denied address gets nowhere.
 */
export interface NetworkGuard {
  /** Whether connecting to the address is denied. An IPv4-mapped IPv6 address (`::ffff:169.254.169.254`) is judged as its IPv4 one. */
  denies(address: string): boolean;
  /** Throws DestinationDeniedError for a denied address, naming it in its canonical form (`::ffff:7f00:1` → `127.0.0.1`). */
  check(address: string): void;
  /**
   * A `lookup` for node:net and node:tls connect options: it resolves as usual and leaves out
   * denied addresses, failing with DestinationDeniedError when every address is denied. For
   * every client that takes socket options: undici's connector (`guardedConnector`), a
   * node:http(s) Agent (the AWS SDK's request handler), amqplib's socket options.
   */
  readonly lookup: LookupFunction;
  /**
   * For a host as a URL writes it, before connecting: an IP literal (`169.254.169.254`,
   * `[::ffff:a9fe:a9fe]`) is checked as it is, since node:net does not look those up; a name
   * passes, its addresses are the lookup's to check.
   */
  checkHost(hostname: string): void;
  /**
   * For a client that dials addresses it is given rather than resolving names itself (the
   * nats kind): the addresses of a host as a URL writes it that the guard allows, an IP
   * literal checked as it is and a name resolved through `lookup`; rejects with
   * DestinationDeniedError when none is allowed.
   */
  addressesOf(hostname: string): Promise<string[]>;
  /**
   * For a socket once connected: when its remote address is denied, whatever led there,
   * destroys it with DestinationDeniedError (so whoever holds the socket fails with the
   * reason) and throws that error.
   */
  checkConnected(socket: Socket): void;
}

export function createNetworkGuard({ deny = DEFAULT_DENIED_RANGES, allow = [], resolve = dnsLookup as LookupFunction }: NetworkGuardOptions = {}): NetworkGuard {
  const denied = deny.map(parseAddressRange);
  const allowed = allow.map(parseAddressRange);
  const within = (address: ipaddr.IPv4 | ipaddr.IPv6, ranges: readonly Range[]): boolean => ranges.some(([base, bits]) => base.kind() === address.kind() && address.match(base, bits));

  const denies = (address: string): boolean => {
    const parsed = canonical(address);
    // An address we cannot read is one we cannot vouch for.
    if (!parsed) return true;
    return within(parsed, denied) || (allowed.length > 0 && !within(parsed, allowed));
  };
  const refusal = (address: string): DestinationDeniedError => new DestinationDeniedError(canonical(address)?.toString() ?? address);
  const check = (address: string): void => {
    if (denies(address)) throw refusal(address);
  };

  const lookup: LookupFunction = (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, found) => {
      if (error) return callback(error, '');
      const addresses = found as unknown as LookupAddress[];
      const permitted = addresses.filter(({ address }) => !denies(address));
      const first = permitted[0];
      if (!first) return callback(refusal(addresses[0]?.address ?? hostname), '');
      if (options.all) return (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, permitted);
      callback(null, first.address, first.family);
    });
  };

  const unbracketed = (hostname: string): string => (hostname.startsWith('[') ? hostname.slice(1, -1) : hostname);
  const checkHost = (hostname: string): void => {
    const bare = unbracketed(hostname);
    if (isIP(bare) !== 0) check(bare);
  };

  return {
    denies,
    check,
    lookup,
    checkHost,
    async addressesOf(hostname) {
      const bare = unbracketed(hostname);
      if (isIP(bare) !== 0) {
        check(bare);
        return [bare];
      }
      return new Promise((resolve, reject) => {
        lookup(bare, { all: true }, (error, found) => (error ? reject(error) : resolve((found as unknown as LookupAddress[]).map(({ address }) => address))));
      });
    },
    checkConnected(socket) {
      const address = socket.remoteAddress;
      if (address === undefined || !denies(address)) return;
      const denied = refusal(address);
      socket.destroy(denied);
      throw denied;
    },
  };
}

