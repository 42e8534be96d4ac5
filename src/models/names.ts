// Layer naming, the contract between models and everything that reads them by name (freeze plans,
// fine-tuning, checkpoints): layers of a task head start with `head` (multi-task: `head_<task>`);
// everything else is the backbone (docs/design.md, "Run folder").

/** Layers whose name marks them as part of a task head. */
export function isHeadLayer(name: string): boolean {
  return name === 'head' || name.startsWith('head_');
}
