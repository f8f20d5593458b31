import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../common/errors.js';
import * as der from './der.js';
import { decodeGeneralNames, generalNamesDer, ipFromBytes, ipToBytes } from './names.js';

describe('IP addresses', () => {
  it.each([
    { ip: '10.0.0.1', hex: '0a000001', back: '10.0.0.1' },
    { ip: '::', hex: '00'.repeat(16), back: '::' },
    { ip: '::1', hex: `${'00'.repeat(15)}01`, back: '::1' },
    { ip: '2001:db8::1', hex: `20010db8${'00'.repeat(11)}01`, back: '2001:db8::1' },
    { ip: 'fe80::1:2:3:4:5:6', hex: 'fe80000000010002000300040005' + '0006', back: 'fe80:0:1:2:3:4:5:6' },
    { ip: '::ffff:192.0.2.1', hex: `${'00'.repeat(10)}ffffc0000201`, back: '::ffff:c000:201' },
    { ip: '1:2:3:4:5:6:7:8', hex: '00010002000300040005000600070008', back: '1:2:3:4:5:6:7:8' },
  ])('$ip', ({ ip, hex, back }) => {
    expect(ipToBytes(ip).toString('hex')).toBe(hex);
    expect(ipFromBytes(Buffer.from(hex, 'hex'))).toBe(back);
  });

  it.each(['010.0.0.1', '1.2.3', 'x', 'fe80::1%eth0', '1:2:3:4:5:6:7:8:9', ''])('rejects "%s"', (ip) => {
    expect(() => ipToBytes(ip, 'ip-sans')).toThrow(InvalidArgumentError);
  });
});

describe('GeneralNames', () => {
  it('round-trips every supported type', () => {
    const names = [
      { type: 'dns' as const, value: 'a.example' },
      { type: 'ip' as const, value: '192.0.2.1' },
      { type: 'uri' as const, value: 'spiffe://td/x' },
      { type: 'email' as const, value: 'a@b.c' },
    ];
    expect(decodeGeneralNames(generalNamesDer(names))).toEqual(names);
  });

  it('reports unsupported forms as "other"', () => {
    const dirName = der.context(4, true, der.sequence());
    const badIp = der.tlv(0x87, Buffer.from([1, 2, 3]));
    expect(decodeGeneralNames(der.sequence(dirName, badIp)).map((n) => n.type)).toEqual(['other', 'other']);
  });

  it.each([
    { name: 'truncated', bytes: Buffer.from('3005820378', 'hex') },
    { name: 'trailing bytes', bytes: Buffer.from('300082', 'hex') },
    { name: 'non-minimal length', bytes: Buffer.from('30810182', 'hex') },
    { name: 'indefinite length', bytes: Buffer.from('30800000', 'hex') },
  ])('throws DerError on $name', ({ bytes }) => {
    expect(() => decodeGeneralNames(bytes)).toThrow(der.DerError);
  });
});

describe('der', () => {
  it.each([
    { oid: '2.5.29.17', hex: '0603551d11' },
    { oid: '1.2.840.113549.1.1.11', hex: '06092a864886f70d01010b' },
    { oid: '2.16.840.1.113730.4.1', hex: '06096086480186f8420401' },
  ])('OID $oid', ({ oid, hex }) => {
    expect(der.oid(oid).toString('hex')).toBe(hex);
    expect(der.decodeOid(der.readTlv(Buffer.from(hex, 'hex')))).toBe(oid);
  });

  it.each([
    { bytes: [0], hex: '020100' },
    { bytes: [0, 0, 5], hex: '020105' },
    { bytes: [0x80], hex: '02020080' },
    { bytes: [0x7f, 0xff], hex: '02027fff' },
  ])('INTEGER $hex', ({ bytes, hex }) => {
    expect(der.unsignedInteger(Buffer.from(bytes)).toString('hex')).toBe(hex);
  });

  it.each([
    { date: '2026-01-31T12:34:56.789Z', hex: `170d${Buffer.from('260131123456Z').toString('hex')}` },
    { date: '2050-01-01T00:00:00.000Z', hex: `180f${Buffer.from('20500101000000Z').toString('hex')}` },
  ])('time $date', ({ date, hex }) => {
    expect(der.time(new Date(date)).toString('hex')).toBe(hex);
  });

  it('encodes long lengths minimally', () => {
    expect(der.octetString(Buffer.alloc(200)).subarray(0, 3).toString('hex')).toBe('0481c8');
    expect(der.octetString(Buffer.alloc(300)).subarray(0, 4).toString('hex')).toBe('0482012c');
    expect(der.readTlv(der.octetString(Buffer.alloc(300))).value.length).toBe(300);
  });
});
