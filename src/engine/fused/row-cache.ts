// The sparse first layer's row cache (kernels.c sparsify): each training row's compressed entries
// (column as uint16, value as float32), kept the first time a batch holds the row, so that every later
// batch copies ~150 entries (MNIST) instead of reading 784 pixels from a cold row and compacting them.
// The batch's compressed arrays are the same either way, so the step's results are the same bits.
//
// One cache at a time, for the last data set the fused dense step trained on, in tfjs-backend-wasm's
// heap (the kernels read it where they read x): a step on another data set frees it and starts anew,
// and so does the collection of x's data (a FinalizationRegistry). Sized from the data set's density
// (findBackground); rows that do not fit are compressed afresh each time, as without a cache.

import type { TensorInfo, WasmBackendLike } from '../kernels/utils.ts';

/** Addresses in the wasm heap of one data set's row cache (kernels.c SparsifyParams' cache_*). */
export interface RowCache {
  rowTable: number;
  cols: number;
  vals: number;
  capacity: number;
  used: number;
  hits: number;
}

interface Entry extends RowCache {
  dataId: WeakRef<object>;
  backend: WeakRef<WasmBackendLike>;
  background: Float32Array | null;
  rows: number;
  features: number;
  block: number;
  freed: boolean;
}

let current: Entry | null = null;
/** The data set whose cache the heap refused (not asked again). */
let refused: WeakRef<object> | null = null;

const release = (entry: Entry): void => {
  if (entry.freed) return;
  entry.freed = true;
  collected.unregister(entry);
  entry.backend.deref()?.wasm._free(entry.block);
  if (current === entry) current = null;
};
const collected = new FinalizationRegistry<Entry>(release);

export const rowCacheTuning = {
  /** The capacity as a multiple of the entries the data set's density predicts (plus 16 rows' worth);
   *  tests set 0 to fill it after a few rows. */
  oversize: 1.25,
  /** The most memory one cache takes (a larger data set keeps the rows that fit, first come). */
  maxBytes: 256 << 20,
};

/** Spare entries past the capacity: the copies move four at a time, and may read up to 3 past a row. */
const SLACK = 8;

/**
 * The row cache of data set x [rows, features] compressed against `background` (the plan's), made
 * (every row unknown) when x is not the last one's, or null when there is no room for one (a data set
 * whose row table alone nears rowCacheTuning.maxBytes, or a heap that cannot grow). `density`: the
 * fraction of x's entries off the background (findBackground's sample); the capacity is
 * rowCacheTuning.oversize × that of x, plus 16 rows, at most maxBytes in all. Call it before taking
 * any view of the heap: the first call for a data set allocates.
 */
export function rowCache(
  wasm: WasmBackendLike,
  x: TensorInfo,
  background: Float32Array | null,
  density: number,
): RowCache | null {
  const [rows, features] = x.shape as [number, number];
  const dataId = (x as unknown as { dataId: object }).dataId;
  const c = current;
  if (
    c &&
    c.dataId.deref() === dataId &&
    c.backend.deref() === wasm &&
    c.background === background &&
    c.rows === rows &&
    c.features === features
  )
    return c;
  if (c) release(c);
  if (refused?.deref() === dataId) return null;
  // Row table (2 int32 per row), used and hits (int32), cols (uint16), vals (float32): 16-byte aligned.
  const align = (bytes: number): number => (bytes + 15) & ~15;
  const tableBytes = align(8 * rows + 8);
  const capacity = Math.min(
    rows * features,
    Math.ceil(rowCacheTuning.oversize * density * rows * features) + 16 * features,
    Math.floor((rowCacheTuning.maxBytes - tableBytes) / 6) - 2 * SLACK,
  );
  if (capacity < features) return null;
  const colsBytes = align(2 * (capacity + SLACK));
  const bytes = tableBytes + colsBytes + 4 * (capacity + SLACK) + 16;
  const raw = wasm.wasm._malloc(bytes) >>> 0;
  if (raw === 0) {
    refused = new WeakRef(dataId); // the heap cannot grow that far: every batch is compressed afresh
    return null;
  }
  const base = align(raw);
  const heap = new Int32Array(wasm.wasm.asm.memory.buffer, base, 2 * rows + 2);
  for (let r = 0; r < rows; r++) heap[2 * r] = -1;
  heap[2 * rows] = 0;
  heap[2 * rows + 1] = 0;
  const entry: Entry = {
    rowTable: base,
    used: base + 8 * rows,
    hits: base + 8 * rows + 4,
    cols: base + tableBytes,
    vals: base + tableBytes + colsBytes,
    capacity,
    dataId: new WeakRef(dataId),
    backend: new WeakRef(wasm),
    background,
    rows,
    features,
    block: raw,
    freed: false,
  };
  collected.register(dataId, entry, entry);
  current = entry;
  return entry;
}
