// SIGINT/SIGTERM: the first asks the loop to stop after the current step (the run is marked
// interrupted and exits 130); a second one exits at once. A sweep's trial host asks the same way for
// one trial (`requestInterrupt`) and starts every trial afresh (`resetInterrupt`).
import { EXIT } from '../errors.ts';

let requested = false;
let notify: () => void = () => {};

export const interruptFlag = {
  isSet: (): boolean => requested,
};

export function installSignalHandlers(onFirst: () => void): void {
  notify = onFirst;
  const handler = (): void => {
    if (requested) process.exit(EXIT.INTERRUPTED);
    requestInterrupt();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/** What the first SIGINT does: the running command stops after its current step. */
export function requestInterrupt(): void {
  if (requested) return;
  requested = true;
  notify();
}

/** Clears an interrupt that belonged to a command that has ended (trial hosts, between trials). */
export function resetInterrupt(): void {
  requested = false;
}
