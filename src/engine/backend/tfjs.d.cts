// The types of tfjs.cjs: TF.js's own namespace, so `tf.Tensor` is still a type where tf is imported.
import * as tf from '@tensorflow/tfjs';

export = tf;
