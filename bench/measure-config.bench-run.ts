import { writeFile } from 'node:fs/promises';
import { type MeasurementJob, measureConfig } from './overhead/measure.js';

// A child of `npm run bench:overhead`: measures one configuration in a process of its own, so
// that no configuration inherits another's state (the async-context hooks that a guarded call
// turns on stay on for the life of a process). Does nothing when run without a job.
const job = process.env.RESILIENT_LLM_OVERHEAD_JOB;

describe.runIf(job)('one overhead measurement', () => {
  it('measures the configuration it was given', async () => {
    const measurement = JSON.parse(job!) as MeasurementJob;
    await writeFile(measurement.out, JSON.stringify(await measureConfig(measurement)));
  });
});
