// Signal names and numbers as `kill` accepts them: KILL, SIGKILL, sigkill, 9.
import os from 'node:os';

const SIGNALS = os.constants.signals as Record<string, number>;

export function parseSignal(text: string): number {
  if (/^\d+$/.test(text)) {
    const num = Number(text);
    // 0 as kill(2) takes it: no signal, only whether the processes exist (runc takes it too).
    if (num <= 64) return num;
  } else {
    const name = text.toUpperCase();
    const num = SIGNALS[name.startsWith('SIG') ? name : `SIG${name}`];
    if (num !== undefined) return num;
  }
  throw new Error(`unknown signal "${text}"`);
}
