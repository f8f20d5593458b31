import { describe, expect, it } from 'vitest';
import { findMount, parseMountInfo, parseMountInfoLine, readMountInfo, superOption } from '../src/index.js';

describe('parseMountInfoLine', () => {
  it('parses the proc(5) example with optional fields', () => {
    const m = parseMountInfoLine(
      '36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue',
    );
    expect(m).toEqual({
      mountId: 36,
      parentId: 35,
      major: 98,
      minor: 0,
      root: '/mnt1',
      mountPoint: '/mnt2',
      mountOptions: ['rw', 'noatime'],
      optionalFields: ['master:1'],
      fsType: 'ext3',
      source: '/dev/root',
      superOptions: ['rw', 'errors=continue'],
    });
  });

  it.each([
    { name: 'space', field: '/tmp/a\\040b', want: '/tmp/a b' },
    { name: 'tab', field: '/tmp/a\\011b', want: '/tmp/a\tb' },
    { name: 'newline', field: '/tmp/a\\012b', want: '/tmp/a\nb' },
    { name: 'backslash', field: '/tmp/a\\134b', want: '/tmp/a\\b' },
    { name: 'several', field: '/a\\040\\040b\\134040', want: '/a  b\\040' },
    { name: 'utf-8 left as is', field: '/tmp/ünï', want: '/tmp/ünï' },
  ])('unescapes a $name in the mount point', ({ field, want }) => {
    const m = parseMountInfoLine(`50 27 0:45 / ${field} rw,relatime shared:7 - tmpfs tmp\\040fs rw,size=64k`);
    expect(m.mountPoint).toBe(want);
    expect(m.source).toBe('tmp fs');
  });

  it('parses a line without optional fields and a tmpfs size', () => {
    const m = parseMountInfoLine(
      '42 27 0:39 / /tmp/mt ro,nosuid,nodev,noexec,relatime - tmpfs csi-cert-driver rw,size=64k,mode=750,gid=1234',
    );
    expect(m.optionalFields).toEqual([]);
    expect(m.mountOptions).toContain('ro');
    expect(superOption(m, 'size')).toBe('64k');
    expect(superOption(m, 'gid')).toBe('1234');
    expect(superOption(m, 'uid')).toBeUndefined();
  });

  it.each(['', 'garbage', '1 2 3:4 / /x rw shared:1 ext4 /dev/sda rw', '1 2 x / /x rw - ext4 /dev/sda rw'])(
    'rejects malformed line %j',
    (line) => {
      expect(() => parseMountInfoLine(line)).toThrow(/malformed/);
    },
  );
});

describe('parseMountInfo and findMount', () => {
  const text = [
    '1 0 0:1 / / rw - rootfs rootfs rw',
    '10 1 0:30 / /target rw - tmpfs a rw',
    '',
    '11 10 0:31 / /target ro - tmpfs b rw',
    '12 1 0:30 /sub /other rw - tmpfs a rw',
  ].join('\n');

  it('skips blank lines and picks the topmost of stacked mounts', () => {
    const mounts = parseMountInfo(text);
    expect(mounts).toHaveLength(4);
    expect(findMount(mounts, '/target')?.source).toBe('b');
    expect(findMount(mounts, '/other')?.root).toBe('/sub');
    expect(findMount(mounts, '/missing')).toBeUndefined();
  });

  it('reads this process mount table', async () => {
    const mounts = readMountInfo();
    expect(findMount(mounts, '/')).toBeDefined();
  });
});
