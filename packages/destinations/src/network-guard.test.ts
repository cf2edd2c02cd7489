import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createNetworkGuard, DEFAULT_DENIED_RANGES, DESTINATION_DENIED, DestinationDeniedError, isDestinationDenied, parseAddressRange } from './network-guard.js';

/** A resolver that answers every name with `addresses`. */
const resolvingTo = (...addresses: string[]): LookupFunction => (_host, _options, callback) =>
  (callback as unknown as (error: null, found: LookupAddress[]) => void)(null, addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((octets) => octets.join('.'));
const toInt = (address: string): number => address.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
/** Whether `address` is in `base/bits`, by arithmetic on the 32-bit numbers: the reference the matcher is held to. */
const inRange = (address: string, base: string, bits: number): boolean => bits === 0 || Math.floor(toInt(address) / 2 ** (32 - bits)) === Math.floor(toInt(base) / 2 ** (32 - bits));

describe('the network guard', () => {
  const guard = createNetworkGuard();

  it.each([
    ['169.254.169.254', true],
    ['169.254.0.1', true],
    ['::ffff:169.254.169.254', true],
    ['::ffff:a9fe:a9fe', true],
    ['fe80::1', true],
    ['fe80::1%eth0', true],
    ['fd00:ec2::254', true],
    ['100.100.100.200', true],
    ['168.63.129.16', true],
    ['169.253.255.255', false],
    ['169.255.0.0', false],
    ['127.0.0.1', false],
    ['10.0.0.1', false],
    ['2606:4700::1111', false],
    ['::ffff:8.8.8.8', false],
    ['not an address', true],
  ])('by default, %s is denied: %s', (address, denied) => {
    expect(guard.denies(address)).toBe(denied);
  });

  it('says which address it refused, in its canonical form', () => {
    expect(() => guard.check('::ffff:a9fe:a9fe')).toThrow(new DestinationDeniedError('169.254.169.254'));
    expect(() => guard.check('169.254.169.254')).toThrow('destination address 169.254.169.254 is denied');
  });

  it('with an allow list, lets through only what it allows, and deny still wins', () => {
    const internal = createNetworkGuard({ allow: ['10.0.0.0/8', '::ffff:192.168.1.0/120'], deny: [...DEFAULT_DENIED_RANGES, '10.9.0.0/16'] });
    expect(internal.denies('10.1.2.3')).toBe(false);
    expect(internal.denies('192.168.1.7')).toBe(false);
    expect(internal.denies('::ffff:10.1.2.3')).toBe(false);
    expect(internal.denies('10.9.0.1')).toBe(true);
    expect(internal.denies('8.8.8.8')).toBe(true);
    expect(internal.denies('169.254.169.254')).toBe(true);
  });

  it('with an empty deny list, denies nothing', () => {
    expect(createNetworkGuard({ deny: [] }).denies('169.254.169.254')).toBe(false);
  });

  it.each([['10.0.0.0/33'], ['10.0.0'], ['127.1'], ['0x7f.0.0.1'], ['fe80::/129'], ['example.com'], ['']])('refuses the range %j', (entry) => {
    expect(() => parseAddressRange(entry)).toThrow(`"${entry}" is not an IP address or CIDR range`);
  });

  describe('properties', () => {
    it('an IPv4 CIDR range holds exactly the addresses whose first bits are its own', () => {
      fc.assert(
        fc.property(ipv4, fc.integer({ min: 0, max: 32 }), ipv4, (base, bits, address) => {
          const ranged = createNetworkGuard({ deny: [`${base}/${bits}`] });
          return ranged.denies(address) === inRange(address, base, bits);
        }),
      );
    });

    it('an IPv4 address and its IPv4-mapped IPv6 forms are judged alike, whichever way the range is written', () => {
      fc.assert(
        fc.property(ipv4, fc.integer({ min: 8, max: 32 }), ipv4, (base, bits, address) => {
          const asV4 = createNetworkGuard({ deny: [`${base}/${bits}`] });
          const asMapped = createNetworkGuard({ deny: [`::ffff:${base}/${bits + 96}`] });
          const hex = ((n: number) => `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`)(toInt(address));
          const verdicts = [address, `::ffff:${address}`, `::ffff:${hex}`].flatMap((form) => [asV4.denies(form), asMapped.denies(form)]);
          return verdicts.every((verdict) => verdict === inRange(address, base, bits));
        }),
      );
    });

    it('an IPv6 range holds an address when their first bits agree', () => {
      const group = fc.nat(0xffff);
      const ipv6 = fc.array(group, { minLength: 8, maxLength: 8 });
      fc.assert(
        fc.property(ipv6, fc.integer({ min: 1, max: 128 }), ipv6, (base, bits, other) => {
          const bitsOf = (groups: number[]): string => groups.map((g) => g.toString(2).padStart(16, '0')).join('');
          const address = other.map((g) => g.toString(16)).join(':');
          // Keep IPv4-mapped addresses out: they are judged as IPv4 ones.
          if (bitsOf(other).startsWith(`${'0'.repeat(80)}${'1'.repeat(16)}`)) return true;
          const ranged = createNetworkGuard({ deny: [`${base.map((g) => g.toString(16)).join(':')}/${bits}`] });
          return ranged.denies(address) === (bitsOf(base).slice(0, bits) === bitsOf(other).slice(0, bits));
        }),
      );
    });
  });

  describe('lookup', () => {
    const lookUp = (lookup: LookupFunction, all: boolean): Promise<unknown> =>
      new Promise((resolve, reject) => lookup('hooks.example.com', { all }, (error, address, family) => (error ? reject(error) : resolve(all ? address : { address, family }))));

    it('leaves out denied addresses and answers in the shape asked for', async () => {
      const guarded = createNetworkGuard({ resolve: resolvingTo('169.254.169.254', '93.184.216.34', 'fe80::1', '2606:2800::1') });
      expect(await lookUp(guarded.lookup, true)).toEqual([
        { address: '93.184.216.34', family: 4 },
        { address: '2606:2800::1', family: 6 },
      ]);
      expect(await lookUp(guarded.lookup, false)).toEqual({ address: '93.184.216.34', family: 4 });
    });

    it('fails with the first denied address when every address is denied', async () => {
      const guarded = createNetworkGuard({ resolve: resolvingTo('::ffff:169.254.169.254', '169.254.169.254') });
      await expect(lookUp(guarded.lookup, false)).rejects.toThrow('destination address 169.254.169.254 is denied');
    });
  });

  describe('addressesOf', () => {
    it('answers the allowed addresses a name resolves to', async () => {
      const guarded = createNetworkGuard({ resolve: resolvingTo('169.254.169.254', '10.0.0.7', 'fd00::7') });
      expect(await guarded.addressesOf('nats.internal')).toEqual(['10.0.0.7', 'fd00::7']);
    });

    it('answers an allowed IP literal as it is, bracketed or not, without resolving it', async () => {
      const guarded = createNetworkGuard({ resolve: () => { throw new Error('resolved an IP literal'); } });
      expect(await guarded.addressesOf('10.0.0.7')).toEqual(['10.0.0.7']);
      expect(await guarded.addressesOf('[fd00::7]')).toEqual(['fd00::7']);
    });

    it.each([['[::ffff:169.254.169.254]'], ['169.254.169.254'], ['metadata.fanout.test']])('refuses %s when nothing it stands for is allowed', async (host) => {
      const guarded = createNetworkGuard({ resolve: resolvingTo('169.254.169.254') });
      await expect(guarded.addressesOf(host)).rejects.toThrow(new DestinationDeniedError('169.254.169.254'));
    });
  });

  it('tells its refusal by the code, whichever realm made it', () => {
    expect(isDestinationDenied(new DestinationDeniedError('169.254.169.254'))).toBe(true);
    expect(isDestinationDenied({ code: DESTINATION_DENIED, message: 'destination address 169.254.169.254 is denied' })).toBe(true);
    expect(isDestinationDenied(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(false);
    expect(isDestinationDenied('destination address 169.254.169.254 is denied')).toBe(false);
  });

  it.each([['169.254.169.254'], ['[fe80::1]'], ['[::ffff:169.254.169.254]']])('checks the IP literal host %s before connecting', (host) => {
    expect(() => guard.checkHost(host)).toThrow(DestinationDeniedError);
  });

  it('leaves a host name to the lookup', () => {
    expect(() => guard.checkHost('metadata.google.internal')).not.toThrow();
  });
});
