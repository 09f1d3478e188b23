// AppArmor profiles and SELinux labels: checked against the host when planned, applied by
// the process executor asking the kernel to switch on the next execve.
import fs from 'node:fs';

function apparmorEnabled(): boolean {
  try {
    return fs.readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').startsWith('Y');
  } catch {
    return false;
  }
}

function selinuxEnabled(): boolean {
  return fs.existsSync('/sys/fs/selinux/enforce');
}

export function checkSecurityModules(apparmorProfile?: string, selinuxLabel?: string): void {
  if (apparmorProfile && !apparmorEnabled()) {
    throw new Error(`apparmor profile "${apparmorProfile}" requested but AppArmor is not enabled on this host`);
  }
  if (selinuxLabel && !selinuxEnabled()) {
    throw new Error(`selinux label "${selinuxLabel}" requested but SELinux is not enabled on this host`);
  }
}
