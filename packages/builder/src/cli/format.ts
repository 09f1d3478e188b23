// How the store commands show sizes, ages and tables: as the docker CLI shows them.

const SIZE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** 4096 -> "4.1kB", 1234567 -> "1.23MB": decimal units, three significant digits, as docker's. */
export function humanSize(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < SIZE_UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${Number(value.toPrecision(3))}${SIZE_UNITS[unit]}`;
}

/** The age of `iso` at `now`, as docker words it ("2 minutes ago", "About an hour ago"). */
export function humanAge(iso: string | undefined, now: number = Date.now()): string {
  const then = iso === undefined ? NaN : Date.parse(iso);
  if (Number.isNaN(then)) return 'N/A';
  const seconds = Math.max(0, (now - then) / 1000);
  const minutes = seconds / 60, hours = minutes / 60, days = hours / 24;
  const text = seconds < 1 ? 'Less than a second'
    : seconds < 2 ? '1 second'
    : seconds < 60 ? `${Math.floor(seconds)} seconds`
    : minutes < 2 ? 'About a minute'
    : minutes < 60 ? `${Math.floor(minutes)} minutes`
    : hours < 2 ? 'About an hour'
    : hours < 48 ? `${Math.floor(hours)} hours`
    : days < 14 ? `${Math.floor(days)} days`
    : days < 90 ? `${Math.floor(days / 7)} weeks`
    : days < 730 ? `${Math.floor(days / 30)} months`
    : `${Math.floor(days / 365)} years`;
  return `${text} ago`;
}

/** Rows as columns padded to their widest cell, three spaces apart, as docker's tabwriter lays them out. */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, col) => Math.max(...all.map((row) => (row[col] ?? '').length)));
  return all.map((row) => row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]! + 3))).join('').trimEnd() + '\n').join('');
}

/** "sha256:<hex>" -> its first 12 hex digits, docker's short image id. */
export function shortId(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}
