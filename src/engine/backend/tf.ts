// The single TF.js entry point of the project: every module imports tf from here, so exactly one
// copy of tfjs-core is loaded (tfjs-node and tfjs-node-gpu share it when present). It comes through
// tfjs.cjs, which require()s it: see there why not `import * as tf from '@tensorflow/tfjs'`.
import tf from './tfjs.cjs';

export { tf };
