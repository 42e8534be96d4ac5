// Reading a CSV file into a header and rows of strings with csv-parse (RFC 4180 quoting, CRLF or LF,
// a UTF-8 byte-order mark, a configurable delimiter); every ragged row is reported in one pass.
import { readFileSync } from 'node:fs';
import { CsvError, parse } from 'csv-parse/sync';
import { DataError, type DataProblem, InputError } from '../../errors.ts';

export interface CsvTable {
  file: string;
  header: string[];
  /** Data rows (header excluded), each as long as the header. */
  rows: string[][];
  /** Each row's number in the file (1 = the first row after the header), for messages. */
  rowNumbers: number[];
  /** The file line each row ends on, for messages. */
  lines: number[];
}

/**
 * Parse `file`. Ragged rows and header problems are appended to `problems` (ragged rows are left out,
 * so the caller can go on and find every other problem in the same pass); without `problems` they
 * throw a DataError. A file that cannot be read or parsed at all throws.
 */
export function readCsv(file: string, delimiter = ',', problems?: DataProblem[]): CsvTable {
  const records = parseRecords(file, readBytes(file), delimiter);
  if (records.length === 0) throw new DataError([{ file, message: 'empty file: expected a header row' }]);
  const header = records[0]!.record.map((h) => h.trim());
  const found: DataProblem[] = headerProblems(file, header, delimiter);
  const rows: string[][] = [];
  const rowNumbers: number[] = [];
  const lines: number[] = [];
  records.slice(1).forEach(({ record, info }, i) => {
    if (record.length === header.length) {
      rows.push(record);
      rowNumbers.push(i + 1);
      lines.push(info.lines);
      return;
    }
    found.push({
      file,
      row: i + 1,
      line: info.lines,
      message: `${record.length} fields, the header has ${header.length}`,
    });
  });
  if (records.length === 1) found.push({ file, message: 'no data rows after the header' });
  if (found.length > 0 && !problems) throw new DataError(found, `cannot read ${file}`);
  problems?.push(...found);
  return { file, header, rows, rowNumbers, lines };
}

function readBytes(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (err as Error).message;
    throw new InputError(`cannot read CSV file ${file}: ${why}`);
  }
}

interface Parsed {
  record: string[];
  info: { lines: number };
}

function parseRecords(file: string, bytes: Buffer, delimiter: string): Parsed[] {
  try {
    // relax_column_count: ragged rows come back so that all of them are reported, not only the first.
    return parse(bytes, {
      bom: true,
      delimiter,
      relax_column_count: true,
      skip_empty_lines: true,
      info: true,
    }) as unknown as Parsed[];
  } catch (err) {
    if (err instanceof CsvError) {
      const line = (err as CsvError & { lines?: number }).lines;
      throw new DataError([{ file, ...(line ? { line } : {}), message: `malformed CSV: ${err.message}` }]);
    }
    throw err;
  }
}

function headerProblems(file: string, header: string[], delimiter: string): DataProblem[] {
  const problems: DataProblem[] = [];
  const seen = new Set<string>();
  header.forEach((name, i) => {
    if (name === '') problems.push({ file, message: `header column ${i + 1} has no name` });
    else if (seen.has(name)) problems.push({ file, column: name, message: 'the header names this column twice' });
    seen.add(name);
  });
  // One column whose name holds another common delimiter is almost always the wrong data.delimiter.
  if (header.length === 1 && /[;\t,|]/.test(header[0]!)) {
    const shown = delimiter === '\t' ? '\\t' : delimiter;
    problems.push({ file, message: `one column only with delimiter '${shown}': set data.delimiter (e.g. ';')` });
  }
  return problems;
}
