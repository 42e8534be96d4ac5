// SIGINT/SIGTERM: the first asks the loop to stop after the current step (the run is marked
// interrupted and exits 130); a second one exits at once.
import { EXIT } from '../errors.ts';

let requested = false;

export const interruptFlag = {
  isSet: (): boolean => requested,
};

export function installSignalHandlers(onFirst: () => void): void {
  const handler = (): void => {
    if (requested) process.exit(EXIT.INTERRUPTED);
    requested = true;
    onFirst();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
