import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
await tf.setBackend('wasm'); await tf.ready();
const a = tf.randomNormal([1024,1024]); const b=tf.randomNormal([1024,1024]);
for (let r=0;r<2;r++) for (const [ta,tb] of [[false,false]]) {
 const t=performance.now(); for(let i=0;i<5;i++) tf.tidy(()=>tf.matMul(a,b,ta,tb).dataSync()); const s=(performance.now()-t)/5/1000;
 console.log(ta,tb, (2*1024**3/s/1e9).toFixed(1),'GFLOP/s');
}
const x = tf.randomNormal([128,784]); const w=tf.randomNormal([784,128]);
for (let r=0;r<3;r++){ const t=performance.now(); for(let i=0;i<50;i++) tf.tidy(()=>tf.matMul(x,w).dataSync()); console.log('mlp', (2*128*784*128*50/((performance.now()-t)/1000)/1e9).toFixed(1)); }
