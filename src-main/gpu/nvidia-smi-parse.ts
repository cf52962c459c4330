import type { GpuTelemetry } from '../../src-shared/state';

/**
 * Parsers for `nvidia-smi --query-*` CSV output. nvidia-smi writes one GPU per line, ", "
 * between cells, optionally a header line and units ("85.32 W"), and bracketed placeholders
 * (`[N/A]`, `[Not Supported]`, `[Unknown Error]`) where a field has no value on that board or
 * driver. It never quotes cells: a field containing ", " would split. Of the fields we ask for
 * only the GPU name (and a process name) is free text; NVIDIA's marketing names contain no commas,
 * but we still fold surplus cells back into the name so an odd one cannot shift every column.
 */

/** The query the monitor runs; the header-less form is parsed in this order. */
const GPU_QUERY_FIELDS = [
  'index',
  'name',
  'driver_version',
  'utilization.gpu',
  'memory.used',
  'memory.total',
  'temperature.gpu',
  'power.draw',
  'power.limit',
  'fan.speed',
  'clocks.sm',
  'clocks.mem',
] as const;
type GpuQueryField = (typeof GPU_QUERY_FIELDS)[number];

export const GPU_QUERY_ARGS = [`--query-gpu=${GPU_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'] as const;

export const COMPUTE_APPS_ARGS = ['--query-compute-apps=pid,process_name,used_memory', '--format=csv,noheader,nounits'] as const;

/** Header spellings nvidia-smi prints for the short names we query by. */
const HEADER_ALIASES: Record<string, GpuQueryField> = {
  'clocks.current.sm': 'clocks.sm',
  'clocks.current.memory': 'clocks.mem',
  'clocks.memory': 'clocks.mem',
};

export interface GpuQueryParse {
  gpus: GpuTelemetry[];
  /** Lines that were not a GPU row (e.g. "Unable to determine the device handle for GPU ..."). */
  problems: string[];
}

export function parseGpuQuery(text: string): GpuQueryParse {
  const lines = nonEmptyLines(text);
  let columns: readonly (GpuQueryField | null)[] = GPU_QUERY_FIELDS;
  const gpus: GpuTelemetry[] = [];
  const problems: string[] = [];
  for (const line of lines) {
    const cells = splitCells(line);
    if (cells.some((cell) => headerField(cell) === 'index')) {
      columns = cells.map(headerField);
      continue;
    }
    const row = rowToRecord(fitCells(cells, columns), columns);
    const gpu = row && toTelemetry(row);
    if (gpu) gpus.push(gpu);
    else problems.push(line);
  }
  return { gpus, problems };
}

export interface GpuProcess {
  pid: number;
  name: string;
  usedMemoryMiB: number | null;
}

/**
 * `--query-compute-apps` rows. On Windows (WDDM) used_memory is `[N/A]`; with nothing running
 * some drivers print nothing and older ones "No running processes found" — neither is a row.
 */
export function parseComputeApps(text: string): GpuProcess[] {
  const processes: GpuProcess[] = [];
  for (const line of nonEmptyLines(text)) {
    const cells = splitCells(line);
    const pid = parseInteger(cells[0]);
    if (pid === null || cells.length < 3) continue;
    processes.push({
      pid,
      name: cells.slice(1, -1).join(', '),
      usedMemoryMiB: parseMeasure(cells[cells.length - 1]),
    });
  }
  return processes;
}

function nonEmptyLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

function splitCells(line: string): string[] {
  return line.split(',').map((cell) => cell.trim());
}

function headerField(header: string): GpuQueryField | null {
  const bare = header
    .replace(/\s*\[[^\]]*\]$/, '')
    .trim()
    .toLowerCase();
  const field = HEADER_ALIASES[bare] ?? bare;
  return (GPU_QUERY_FIELDS as readonly string[]).includes(field) ? (field as GpuQueryField) : null;
}

/** Surplus cells can only come from a comma inside the name: fold them back into it. */
function fitCells(cells: string[], columns: readonly (GpuQueryField | null)[]): string[] {
  const surplus = cells.length - columns.length;
  const nameAt = columns.indexOf('name');
  if (surplus <= 0 || nameAt < 0) return cells;
  const name = cells.slice(nameAt, nameAt + surplus + 1).join(', ');
  return [...cells.slice(0, nameAt), name, ...cells.slice(nameAt + surplus + 1)];
}

function rowToRecord(cells: string[], columns: readonly (GpuQueryField | null)[]): Partial<Record<GpuQueryField, string>> | null {
  if (cells.length !== columns.length) return null;
  const row: Partial<Record<GpuQueryField, string>> = {};
  columns.forEach((field, i) => {
    if (field) row[field] = cells[i];
  });
  return row;
}

function toTelemetry(row: Partial<Record<GpuQueryField, string>>): GpuTelemetry | null {
  const index = parseInteger(row.index);
  const name = presentText(row.name);
  if (index === null || name === null) return null;
  return {
    index,
    name,
    driver: presentText(row.driver_version),
    utilizationPct: parseMeasure(row['utilization.gpu']),
    memoryUsedMiB: parseMeasure(row['memory.used']),
    memoryTotalMiB: parseMeasure(row['memory.total']),
    tempC: parseMeasure(row['temperature.gpu']),
    powerW: parseMeasure(row['power.draw']),
    powerLimitW: parseMeasure(row['power.limit']),
    fanPct: parseMeasure(row['fan.speed']),
    smClockMHz: parseMeasure(row['clocks.sm']),
    memClockMHz: parseMeasure(row['clocks.mem']),
  };
}

/** `[N/A]`, `[Not Supported]`, `N/A` and friends mean "no value", not zero. */
function isPlaceholder(cell: string): boolean {
  return /^\[.*\]$/.test(cell) || /^n\/a$/i.test(cell);
}

function presentText(cell: string | undefined): string | null {
  if (cell === undefined || cell === '' || isPlaceholder(cell)) return null;
  return cell;
}

/** "85.32", "85.32 W", "24564 MiB", "30 %" → the number; anything else → null. */
function parseMeasure(cell: string | undefined): number | null {
  const text = presentText(cell);
  const match = text?.match(/^(-?\d+(?:\.\d+)?)(?:\s*(?:%|[A-Za-z]+))?$/);
  return match ? Number(match[1]) : null;
}

function parseInteger(cell: string | undefined): number | null {
  return cell !== undefined && /^\d+$/.test(cell) ? Number(cell) : null;
}
