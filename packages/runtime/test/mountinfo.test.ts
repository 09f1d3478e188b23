// The mountinfo parser, on lines the kernel wrote (copied from /proc/self/mountinfo of mounts made
// for the purpose: names with a space, a tab and a backslash, an overlay whose lowerdir holds a
// comma, shared/slave/unbindable binds). Needs no root.
import t from 'tap';
import { mountPointsUnder, parseMountinfo, parseMountinfoLine, readMountinfo } from '../src/sys/mountinfo.js';

t.test('the fields of a plain line', async (t) => {
  t.same(parseMountinfoLine('24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=12334076k,nr_inodes=3083519,mode=755'), {
    id: 24,
    parentId: 27,
    device: '0:6',
    root: '/',
    mountpoint: '/dev',
    options: ['rw', 'relatime'],
    optionalFields: [],
    fstype: 'devtmpfs',
    source: 'devtmpfs',
    superOptions: ['rw', 'size=12334076k', 'nr_inodes=3083519', 'mode=755'],
  });
});

t.test('octal escapes in the mount point, the source and the options', async (t) => {
  const [space, tab, backslash, overlay] = parseMountinfo([
    '45 27 0:40 / /tmp/mi-yTUz/a\\040b rw,relatime - tmpfs my\\040src rw,size=1024k',
    '46 27 0:40 / /tmp/mi-yTUz/t\\011x rw,relatime - tmpfs my\\040src rw,size=1024k',
    '50 27 0:43 / /tmp/mi-yTUz/back\\134slash rw,relatime - tmpfs none rw',
    '49 27 0:41 / /tmp/mi-yTUz/o rw,relatime - overlay overlay rw,lowerdir=/tmp/mi-yTUz/l\\134\\0541,upperdir=/tmp/mi-yTUz/u,workdir=/tmp/mi-yTUz/w,uuid=on',
  ].join('\n'));
  t.equal(space?.mountpoint, '/tmp/mi-yTUz/a b');
  t.equal(space?.source, 'my src');
  t.equal(tab?.mountpoint, '/tmp/mi-yTUz/t\tx');
  t.equal(backslash?.mountpoint, '/tmp/mi-yTUz/back\\slash');
  // The kernel escapes a comma inside an option's value, so the list splits on the others only.
  t.same(overlay?.superOptions, ['rw', 'lowerdir=/tmp/mi-yTUz/l\\,1', 'upperdir=/tmp/mi-yTUz/u', 'workdir=/tmp/mi-yTUz/w', 'uuid=on']);
});

t.test('optional fields, and a bind of a subdirectory', async (t) => {
  const mounts = parseMountinfo([
    '68 46 0:40 / /tmp/mi-kXe7/s rw,relatime shared:2 - tmpfs src rw',
    '70 46 0:40 / /tmp/mi-kXe7/c rw,relatime shared:3 master:2 - tmpfs src rw',
    '71 46 0:40 / /tmp/mi-kXe7/u rw,relatime unbindable - tmpfs src rw',
    '72 46 254:1 /srv/sub\\040dir /tmp/mi-kXe7/d ro,nosuid,nodev - ext4 /dev/vda1 rw,errors=remount-ro',
    '',
  ].join('\n'));
  t.same(mounts.map((m) => m.optionalFields), [['shared:2'], ['shared:3', 'master:2'], ['unbindable'], []]);
  t.same(mounts.map((m) => m.fstype), ['tmpfs', 'tmpfs', 'tmpfs', 'ext4']);
  t.equal(mounts[3]?.root, '/srv/sub dir');
  t.same(mounts[3]?.options, ['ro', 'nosuid', 'nodev']);
  t.equal(mounts[3]?.source, '/dev/vda1');
});

t.test('a line without the separator is an error naming it', async (t) => {
  t.throws(() => parseMountinfo('22 27 0:21 / /proc rw,relatime proc proc rw'), /mountinfo: malformed line "22 27 0:21/);
  t.throws(() => parseMountinfo('22 27 0:21 / /proc rw,relatime - proc proc'), /malformed line/);
});

t.test('mount points under a directory come in the order they come off', async (t) => {
  const mounts = parseMountinfo([
    '60 27 0:50 / /tmp/s rw - tmpfs tmpfs rw',
    '61 60 0:51 / /tmp/s/x/y rw - tmpfs tmpfs rw',
    '62 60 0:52 / /tmp/s/x rw - tmpfs tmpfs rw',
    '63 62 0:53 / /tmp/s/x rw - tmpfs tmpfs rw',
    '64 27 0:54 / /tmp/sibling rw - tmpfs tmpfs rw',
    '65 27 0:55 / /tmp/s\\040t rw - tmpfs tmpfs rw',
  ].join('\n'));
  // /tmp/s/x was mounted over the directory holding /tmp/s/x/y: it comes off first, then y is
  // reachable again; the two mounts stacked on /tmp/s/x are each listed.
  t.same(mountPointsUnder('/tmp/s', mounts), ['/tmp/s/x', '/tmp/s/x', '/tmp/s/x/y', '/tmp/s']);
  t.same(mountPointsUnder('/tmp/s/', mounts), ['/tmp/s/x', '/tmp/s/x', '/tmp/s/x/y']);
  t.same(mountPointsUnder('/tmp/s t', mounts), ['/tmp/s t']);
  t.same(mountPointsUnder('/nowhere', mounts), []);
});

t.test("this process' own table", async (t) => {
  const mounts = readMountinfo();
  const root = mounts.find((m) => m.mountpoint === '/');
  t.ok(root, 'the root mount is listed');
  t.ok(mounts.some((m) => m.mountpoint === '/proc' && m.fstype === 'proc'), '/proc is a proc mount');
  t.ok(mounts.every((m) => Number.isInteger(m.id) && /^\d+:\d+$/.test(m.device)), 'ids and devices parse');
});
