// Making the target's examples fit the source model: images are decoded at the source's size and
// channels (grayscale, resized); a table must have the source's columns. Anything else is refused
// before training starts, with a message that says why.
import { datasetSource } from '../../config/data-schema.ts';
import type { DataConfig } from '../../config/types.ts';
import { encodedNames } from '../../data/input.ts';
import type { RawDataset } from '../../data/types.ts';
import { UsageError } from '../../errors.ts';

const show = (shape: readonly number[]): string => shape.join('x');

/** What the built-in sets ignore, at its defaults (a source's own-data settings must not follow them there). */
const BUILT_IN: Pick<DataConfig, 'image' | 'test'> = { image: { size: null, channels: null }, test: 0.2 };

/**
 * The target's data settings that differ from the source's: an `images:` target takes the source's
 * size and channels; a built-in target drops the source's image and test settings.
 */
export function targetDataSettings(source: RawDataset, to: string): Partial<DataConfig> {
  const kind = datasetSource(to);
  if (kind !== 'images') return kind === 'csv' ? { image: BUILT_IN.image } : BUILT_IN;
  const [h, w, c] = source.inputShape;
  if (source.inputShape.length !== 3 || (c !== 1 && c !== 3)) {
    throw new UsageError(
      `--to ${to}: the source '${source.spec}' is a table of ${show(source.inputShape)} features; images cannot feed its model`,
    );
  }
  return { image: { size: [h!, w!], channels: c } };
}

/** Throws unless the loaded target's examples have the source's shape (and a table its columns). */
export function checkTargetFits(source: RawDataset, target: RawDataset, to: string): void {
  const sourceTable = source.input?.kind === 'table';
  const targetTable = target.input?.kind === 'table';
  if (sourceTable !== targetTable) {
    const kind = (t: boolean): string => (t ? 'a table' : 'images');
    throw new UsageError(
      `--to ${to} is ${kind(targetTable)}, the source '${source.spec}' is ${kind(sourceTable)}: a model cannot take both`,
    );
  }
  if (sourceTable && targetTable && source.input?.kind === 'table' && target.input?.kind === 'table') {
    const a = encodedNames(source.input.columns).join(', ');
    const b = encodedNames(target.input.columns).join(', ');
    if (a !== b) throw new UsageError(`--to ${to}: its encoded columns (${b}) differ from the source's (${a})`);
    return;
  }
  if (show(source.inputShape) !== show(target.inputShape)) {
    throw new UsageError(
      `--to ${to} has ${show(target.inputShape)} images, the source '${source.spec}' ${show(source.inputShape)}: ` +
        'transfer needs one input shape (an images: target is resized to the source automatically)',
    );
  }
}
