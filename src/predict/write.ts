// Predictions as a CSV file (`mtl predict --out preds.csv`): one row per input, the predicted class and
// its probability, then one probability column per class (or the top K), per task; written atomically.
import type { Prediction, TaskPrediction } from './predict.ts';

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
export function csvField(value: string | number): string {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function tasksOf(p: Prediction): [string, TaskPrediction][] {
  return 'tasks' in p ? Object.entries(p.tasks) : [['', p]];
}

/** Columns per task: `class`, `probability`, then `p:<class>` (all classes) or `top<k>`/`top<k>_p` (with --top). */
export function predictionsCsv(predictions: Prediction[], top?: number): string {
  if (predictions.length === 0) return 'input\n';
  const header = ['input'];
  for (const [task, t] of tasksOf(predictions[0]!)) {
    const pre = task ? `${task}.` : '';
    header.push(`${pre}class`, `${pre}probability`);
    if (top === undefined) header.push(...Object.keys(t.probabilities).map((c) => `${pre}p:${c}`));
    else for (let k = 1; k <= top; k++) header.push(`${pre}top${k}`, `${pre}top${k}_p`);
  }
  const rows = predictions.map((p) => {
    const cells: (string | number)[] = [p.input];
    for (const [, t] of tasksOf(p)) {
      cells.push(t.class, t.probabilities[t.class] ?? '');
      const entries = Object.entries(t.probabilities);
      if (top === undefined) cells.push(...entries.map(([, v]) => v));
      else for (let k = 0; k < top; k++) cells.push(entries[k]?.[0] ?? '', entries[k]?.[1] ?? '');
    }
    return cells.map(csvField).join(',');
  });
  return `${[header.map(csvField).join(','), ...rows].join('\n')}\n`;
}
