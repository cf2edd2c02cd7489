/** Where a command writes: its answer on stdout, progress and errors on stderr. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream & { readonly isTTY?: boolean };
}

export const processIo: CliIo = { stdout: process.stdout, stderr: process.stderr };

export function printLine(io: CliIo, line = ''): void {
  io.stdout.write(`${line}\n`);
}

/** `--json`: the answer as one JSON document, for scripts and jq. */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** One column of a table: its header and how a row shows in it. */
export interface Column<Row> {
  readonly header: string;
  readonly value: (row: Row) => string | number | undefined;
}

/** Rows under upper-case headers, columns padded to their widest cell; the last column is not padded. */
export function formatTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
  const cells = [columns.map((column) => column.header), ...rows.map((row) => columns.map((column) => String(column.value(row) ?? '')))];
  const widths = columns.map((_column, index) => Math.max(...cells.map((line) => line[index]!.length)));
  return cells.map((line) => line.map((cell, index) => (index === line.length - 1 ? cell : cell.padEnd(widths[index]!))).join('  ').trimEnd()).join('\n');
}

/** A line on stderr rewritten in place while a long operation runs; silent unless stderr is a terminal. */
export interface Progress {
  /** False off a terminal (or with --json): updates go nowhere, so work done only to report progress can be skipped. */
  readonly shown: boolean;
  update(text: string): void;
  /** Clears the line. */
  done(): void;
}

export function progressLine(io: CliIo, enabled: boolean): Progress {
  if (!enabled || !io.stderr.isTTY) return { shown: false, update: () => {}, done: () => {} };
  // \r back to the start, ESC[2K erases the line: no library needed for one line.
  return {
    shown: true,
    update: (text) => void io.stderr.write(`\r\x1b[2K${text}`),
    done: () => void io.stderr.write('\r\x1b[2K'),
  };
}
