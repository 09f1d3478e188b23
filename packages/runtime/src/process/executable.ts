// Finding process.args[0] in the container, with its PATH, the way runc (Go's exec.LookPath) does.
import fs from 'node:fs';
import path from 'node:path';

function isExecutableFile(file: string): boolean {
  try {
    const stat = fs.statSync(file);
    return stat.isFile() && (stat.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

export function findExecutable(command: string, env: string[], cwd: string): string {
  if (command.includes('/')) {
    const file = path.resolve(cwd, command);
    if (!fs.existsSync(file)) throw new Error(`exec: "${command}": stat ${command}: no such file or directory`);
    return file;
  }
  const pathVar = env.findLast((e) => e.startsWith('PATH='))?.slice(5) ?? '';
  for (const dir of pathVar.split(':')) {
    const candidate = path.resolve(cwd, dir === '' ? '.' : dir, command);
    if (isExecutableFile(candidate)) return candidate;
  }
  throw new Error(`exec: "${command}": executable file not found in $PATH`);
}
