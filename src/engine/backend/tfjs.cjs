// TF.js loaded with require() rather than import. Node lexes every CommonJS module an ES module imports
// to find its named exports, and for TF.js's bundles (6 MB) that cost ~0.4 s of CPU at every start,
// half of it on helper threads compiling the lexer: in a sweep with as many trials as cores that time
// is taken from the other trial. Assigning through a variable keeps the lexer from following the
// re-export into TF.js (`module.exports = require(…)` would be followed).
const tf = require('@tensorflow/tfjs');

module.exports = tf;
