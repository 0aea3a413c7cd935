export { ManualClock, sequenceRandom } from './manual-clock.js';
