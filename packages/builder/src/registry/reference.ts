// Image references as docker reads them: `debian` is docker.io/library/debian:latest, a first
// component with a dot, a colon or that is `localhost` names a registry, and a `@sha256:` pin is
// kept (it wins over a tag). docker.io's API is served by registry-1.docker.io.

export interface Reference {
  /** The registry as users name it: docker.io, 127.0.0.1:5000, ... */
  domain: string;
  /** The repository inside it: library/debian, team/base. */
  repository: string;
  tag?: string;
  digest?: string;
}

const DOCKER_HUB = 'docker.io';
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** The registry host a reference's domain is reached at (docker.io's API is elsewhere). */
export function registryHost(domain: string): string {
  return domain === DOCKER_HUB ? 'registry-1.docker.io' : domain;
}

function isDomain(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost';
}

export function parseReference(text: string): Reference {
  const bad = (why: string) => new Error(`invalid reference "${text}": ${why}`);
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad('a digest must be sha256: and 64 lowercase hex digits');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`"${tag}" is not a valid tag`);
  }
  const slash = rest.indexOf('/');
  let domain = DOCKER_HUB;
  let repository = rest;
  if (slash > 0 && isDomain(rest.slice(0, slash))) {
    domain = rest.slice(0, slash);
    repository = rest.slice(slash + 1);
  }
  if (domain === 'index.docker.io') domain = DOCKER_HUB;
  if (domain === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  if (repository === '') throw bad('no repository name');
  for (const component of repository.split('/')) {
    if (!COMPONENT.test(component)) {
      throw bad(component.toLowerCase() !== component ? 'repository name must be lowercase' : `"${component}" is not a valid repository component`);
    }
  }
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { domain, repository, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** The full name: domain/repository[:tag][@digest]. */
export function formatReference(ref: Reference): string {
  return `${ref.domain}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** What a manifest is asked for by: the pinned digest, else the tag. */
export function manifestSelector(ref: Reference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}
