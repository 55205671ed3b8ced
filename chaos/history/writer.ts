import { closeSync, openSync, writeSync } from 'node:fs';
import { ConfigError, errorMessage } from '@eda-harness/core';
import type { History, HistoryHeader, HistoryRecord } from './format';

/** One history line: the record as compact JSON (undefined fields left out), then a newline. */
export const historyLine = (r: HistoryHeader | HistoryRecord): string => `${JSON.stringify(r)}\n`;

/**
 * The history of a run as it happens: kept in memory (the run's verdicts are computed from it) and,
 * given a path, streamed to that file a line at a time, synchronously, so a run that crashes or is
 * interrupted leaves every line recorded before it stopped.
 */
export class HistoryLog {
  private readonly records: HistoryRecord[] = [];
  private fd: number | undefined;
  private writeError: string | undefined;

  constructor(
    readonly header: HistoryHeader,
    readonly path?: string,
  ) {
    if (path !== undefined) {
      try {
        this.fd = openSync(path, 'w');
      } catch (err) {
        throw new ConfigError(`Cannot write the history ${path}: ${errorMessage(err)}`, { cause: err, hint: 'Choose a report folder you can write to (--report-dir).' });
      }
      this.write(historyLine(header));
    }
  }

  add(record: HistoryRecord): void {
    this.records.push(record);
    if (this.fd !== undefined) this.write(historyLine(record));
  }

  /** Why the file stopped being written, if it did (the in-memory history is complete either way). */
  get error(): string | undefined {
    return this.writeError;
  }

  history(): History {
    return { header: this.header, records: this.records };
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch (err) {
      this.writeError ??= `closing ${this.path}: ${errorMessage(err)}`;
    }
    this.fd = undefined;
  }

  private write(line: string): void {
    if (this.fd === undefined) return;
    try {
      writeSync(this.fd, line);
    } catch (err) {
      // A full disk must not stop the scenario mid-fault: stop writing, say so in the result.
      this.writeError = `writing ${this.path}: ${errorMessage(err)}`;
      try {
        closeSync(this.fd);
      } catch {
        /* already failing; the first error is the one reported */
      }
      this.fd = undefined;
    }
  }
}
