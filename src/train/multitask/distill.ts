// Shared knowledge: distillation from single-task teacher runs (e.g. the runs of `--baselines`) into
// the multi-task student. A teacher's best checkpoint labels the student's training inputs once, with
// the teacher's own preprocess.json; its soft targets at temperature τ enter the task loss.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../config/load.ts';
import type { ResolvedConfig } from '../../config/types.ts';
import type { MultiTaskData } from '../../data/multi-prepare.ts';
import { applyPreprocess } from '../../data/normalize.ts';
import { tf } from '../../engine/backend/tf.ts';
import { InputError } from '../../errors.ts';
import { loadCheckpoint } from '../../models/checkpoint.ts';
import { sha256Hex } from '../../runs/manifest.ts';
import { resolveRun } from '../../runs/resolve.ts';
import type { DistillSettings } from './forward.ts';
import type { DistillReport, MultiTaskSummary } from './summary.ts';

export interface Teachers {
  /** Per student task: soft targets [n_train, classes] on the device, or null. */
  soft: (tf.Tensor | null)[];
  settings: DistillSettings | null;
  report: boolean;
  studentReport(tasks: MultiTaskSummary['tasks']): DistillReport;
  /** Per task, `<teacher run>:<sha256 of its weights.bin>`: a resumed student needs the same teachers. */
  fingerprints(): Record<string, string>;
  dispose(): void;
}

interface TeacherInfo {
  runId: string;
  accuracy: number | null;
  /** sha256 of the teacher's best weights.bin. */
  weights: string;
}

export async function loadTeachers(config: ResolvedConfig, runsDir: string, data: MultiTaskData): Promise<Teachers> {
  const d = config.multitask.distill;
  const soft: (tf.Tensor | null)[] = data.tasks.map(() => null);
  const info = new Map<string, TeacherInfo>();
  const teachers: Teachers = {
    soft,
    settings: null,
    report: false,
    studentReport: (tasks) => ({
      temperature: d.temperature,
      alpha: d.alpha,
      tasks: Object.fromEntries(
        Object.entries(tasks).map(([name, r]) => [
          name,
          {
            teacherRunId: info.get(name)?.runId ?? null,
            teacherAccuracy: info.get(name)?.accuracy ?? null,
            studentAccuracy: r.test.accuracy,
          },
        ]),
      ),
    }),
    fingerprints: () =>
      Object.fromEntries([...info].map(([task, t]) => [`teacher of ${task}`, `${t.runId}:${t.weights}`])),
    dispose: () => tf.dispose(soft.filter((s): s is tf.Tensor => s !== null)),
  };
  if (d.from.length === 0) return teachers;
  try {
    for (const ref of d.from) await addTeacher(ref, runsDir, data, d.temperature, soft, info);
  } catch (err) {
    teachers.dispose();
    throw err;
  }
  if (info.size === 0)
    throw new InputError(
      `multitask.distill.from: none of the teacher runs has a task named ${data.tasks.map((t) => t.name).join(' or ')}`,
    );
  return { ...teachers, settings: { temperature: d.temperature, alpha: d.alpha }, report: true };
}

async function addTeacher(
  ref: string,
  runsDir: string,
  data: MultiTaskData,
  temperature: number,
  soft: (tf.Tensor | null)[],
  info: Map<string, TeacherInfo>,
): Promise<void> {
  const run = await resolveRun(runsDir, ref);
  if (run.record.kind !== 'multitask') {
    throw new InputError(
      `multitask.distill.from: run ${run.id} is a ${run.record.kind} run; teachers are multi-task-mode runs such as those of \`mtl train <config> --baselines\``,
    );
  }
  const teacherTasks = loadConfig(join(run.dir, 'config.yaml')).config.tasks.map((t) => t.name);
  const summary = readSummary(run.dir);
  const ckpt = await loadCheckpoint(join(run.dir, 'checkpoints', 'best'));
  const weights = sha256Hex(readFileSync(join(run.dir, 'checkpoints', 'best', 'weights.bin')));
  try {
    teacherTasks.forEach((name, k) => {
      const t = data.tasks.findIndex((task) => task.name === name);
      if (t < 0) return;
      if (soft[t]) throw new InputError(`multitask.distill.from: two teachers for task '${name}'`);
      const classes = ckpt.model.outputs[k]!.shape[1] as number;
      if (classes !== data.tasks[t]!.numClasses) {
        throw new InputError(
          `multitask.distill.from: run ${run.id}'s '${name}' head has ${classes} classes, the student's has ${data.tasks[t]!.numClasses}`,
        );
      }
      soft[t] = softTargets(ckpt.model, k, data.groups[data.tasks[t]!.group]!, ckpt.preprocess, temperature);
      info.set(name, { runId: run.id, accuracy: summary?.tasks?.[name]?.test?.accuracy ?? null, weights });
    });
  } finally {
    ckpt.model.dispose();
  }
}

/** softmax(log p / τ) = softmax(z / τ): the teacher's tempered distribution, from its saved probabilities. */
function softTargets(
  model: tf.LayersModel,
  output: number,
  group: MultiTaskData['groups'][number],
  preprocess: Parameters<typeof applyPreprocess>[0],
  temperature: number,
  batchSize = 1000,
): tf.Tensor {
  const f = group.rawTrain.length / Math.max(group.train.n, 1);
  const parts: tf.Tensor[] = [];
  for (let start = 0; start < group.train.n; start += batchSize) {
    const size = Math.min(batchSize, group.train.n - start);
    const x = applyPreprocess(preprocess, group.rawTrain.subarray(start * f, (start + size) * f), size);
    parts.push(
      tf.tidy(() => {
        const out = model.predict(tf.tensor(x, [size, ...preprocess.inputShape]), { batchSize: size });
        const p = (Array.isArray(out) ? out[output]! : out) as tf.Tensor;
        return tf.softmax(tf.log(p.clipByValue(1e-12, 1)).div(temperature));
      }),
    );
  }
  const all = tf.concat(parts);
  tf.dispose(parts);
  return all;
}

function readSummary(dir: string): { tasks?: Record<string, { test?: { accuracy?: number } }> } | null {
  try {
    return JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  } catch {
    return null; // a teacher without a summary still teaches; only the side-by-side table lacks its number
  }
}
