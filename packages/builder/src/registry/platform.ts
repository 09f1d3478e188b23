// The platform an image is pulled for: the build's (linux and the host's architecture), or the one
// --platform names (os/arch[/variant]), matched against an index's entries as containerd does
// (arm64's variant defaults to v8, arm's to v7; no variant asked means any).
import type { Descriptor } from '@tsrunc/spec-schemas';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const DEFAULT_VARIANT: Record<string, string> = { arm64: 'v8', arm: 'v7' };

/** Node's names of architectures (process.arch) as image-spec's (GOARCH's) name them. */
const ARCHITECTURES: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };

/** The architecture of images this host runs, as an image config names it. */
export function hostArchitecture(): string {
  return ARCHITECTURES[process.arch] ?? process.arch;
}

export function hostPlatform(): Platform {
  return { os: 'linux', architecture: hostArchitecture() };
}

export function parsePlatform(text: string): Platform {
  const parts = text.toLowerCase().split('/');
  const [os, architecture, variant] = parts;
  if (parts.length < 2 || parts.length > 3 || !os || !architecture || (parts.length === 3 && !variant)) {
    throw new Error(`--platform ${text}: expected os/arch[/variant], for example linux/amd64 or linux/arm/v7`);
  }
  return { os, architecture: architecture === 'x86_64' ? 'amd64' : architecture === 'aarch64' ? 'arm64' : architecture, ...(variant ? { variant } : {}) };
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

function matches(wanted: Platform, entry: Descriptor['platform']): boolean {
  if (!entry || entry.os !== wanted.os || entry.architecture !== wanted.architecture) return false;
  if (wanted.variant === undefined) return true;
  const fallback = DEFAULT_VARIANT[wanted.architecture];
  return (entry.variant ?? fallback) === (wanted.variant ?? fallback);
}

/** The index entry for `wanted`, or an error listing the platforms the index has. */
export function choosePlatform(manifests: Descriptor[], wanted: Platform): Descriptor {
  const found = manifests.find((d) => matches(wanted, d.platform));
  if (found) return found;
  const offered = manifests.flatMap((d) => (d.platform ? [formatPlatform(d.platform)] : [])).join(', ') || 'none named';
  throw new Error(`no image for ${formatPlatform(wanted)} in the manifest list (it has ${offered})`);
}
