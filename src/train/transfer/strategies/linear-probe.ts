// `linear-probe`: the source backbone frozen (inference mode), a new head trained on top.
import { probePhase, type Strategy } from './types.ts';

export const linearProbe: Strategy = {
  help: 'frozen backbone (inference mode), new head',
  usesSource: true,
  inDefaultSet: true,
  plan: (_blocks, backbone) => [probePhase(backbone)],
};
