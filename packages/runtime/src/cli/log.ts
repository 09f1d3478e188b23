// Log lines in runc's formats (logrus text or JSON), so that containerd's shim, which reads
// the --log file in JSON, understands ours.
import fs from 'node:fs';
import { writeAll } from '../sys/write-all.js';
import { writeStderr } from './output.js';

export type LogFormat = 'text' | 'json';
export type Level = 'debug' | 'info' | 'warning' | 'error';

export interface LogOptions {
  file?: string;
  format: LogFormat;
  debug: boolean;
}

function timestamp(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

function quote(text: string): string {
  return JSON.stringify(text);
}

export class Logger {
  private readonly fd: number;
  readonly toStderr: boolean;

  constructor(private readonly options: LogOptions) {
    this.fd = options.file ? fs.openSync(options.file, 'a', 0o644) : 2;
    this.toStderr = !options.file;
  }

  format(level: Level, msg: string): string {
    if (this.options.format === 'json') return JSON.stringify({ level, msg, time: timestamp() }) + '\n';
    return `time=${quote(timestamp())} level=${level} msg=${quote(msg)}\n`;
  }

  log(level: Level, msg: string): void {
    if (level === 'debug' && !this.options.debug) return;
    writeAll(this.fd, this.format(level, msg));
  }

  debug(msg: string): void { this.log('debug', msg); }
  warn(msg: string): void { this.log('warning', msg); }

  /** As runc's fatal(): to the log, and plainly to stderr too when the log is a file. */
  error(msg: string): void {
    this.log('error', msg);
    if (!this.toStderr) writeStderr(msg + '\n');
  }
}
