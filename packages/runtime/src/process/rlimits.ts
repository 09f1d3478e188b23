// process.rlimits: checked and turned into numbers for the process executor, which sets them.

const RESOURCES: Record<string, number> = {
  RLIMIT_CPU: 0, RLIMIT_FSIZE: 1, RLIMIT_DATA: 2, RLIMIT_STACK: 3, RLIMIT_CORE: 4, RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6, RLIMIT_NOFILE: 7, RLIMIT_MEMLOCK: 8, RLIMIT_AS: 9, RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11, RLIMIT_MSGQUEUE: 12, RLIMIT_NICE: 13, RLIMIT_RTPRIO: 14, RLIMIT_RTTIME: 15,
};

export interface RlimitPlan {
  type: string;
  resource: number;
  /** Decimal strings: limits are 64-bit, beyond what a JSON number keeps exactly. */
  soft: string;
  hard: string;
}

export function planRlimits(rlimits: { type: string; soft: number; hard: number }[] = []): RlimitPlan[] {
  const seen = new Set<string>();
  return rlimits.map((r) => {
    const resource = RESOURCES[r.type];
    if (resource === undefined) throw new Error(`process.rlimits: unknown rlimit type "${r.type}"`);
    if (seen.has(r.type)) throw new Error(`process.rlimits: duplicate type "${r.type}"`);
    seen.add(r.type);
    return { type: r.type, resource, soft: BigInt(r.soft).toString(), hard: BigInt(r.hard).toString() };
  });
}
