// USER as docker resolves it: names looked up in the image's own passwd and group files.
import fs from 'node:fs';
import path from 'node:path';

/** USER "name[:group]" or "uid[:gid]" to numbers, names looked up in the rootfs' passwd and group files. */
export function resolveUser(rootfs: string, user: string): { uid: number; gid: number } {
  if (!user) return { uid: 0, gid: 0 };
  const [name = '', group] = user.split(':');
  const table = (file: string) => {
    try {
      return fs.readFileSync(path.join(rootfs, file), 'utf8').split('\n').map((l) => l.split(':'));
    } catch {
      return [];
    }
  };
  const passwd = table('etc/passwd').find((f) => f[0] === name || f[2] === name);
  const uid = /^\d+$/.test(name) ? Number(name) : passwd ? Number(passwd[2]) : NaN;
  if (Number.isNaN(uid)) throw new Error(`unable to find user ${name}: no matching entries in passwd file`);
  let gid = passwd ? Number(passwd[3]) : 0;
  if (group !== undefined) {
    const entry = table('etc/group').find((f) => f[0] === group || f[2] === group);
    gid = /^\d+$/.test(group) ? Number(group) : entry ? Number(entry[2]) : NaN;
    if (Number.isNaN(gid)) throw new Error(`unable to find group ${group}: no matching entries in group file`);
  }
  return { uid, gid };
}
