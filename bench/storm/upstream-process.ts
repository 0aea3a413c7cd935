// The storm benchmark's upstream, in a process of its own (started by RemoteUpstream): a
// provider is another machine, so its work must not share the event loop, or the CPU, of the
// strategies being measured. Answers the parent's commands over the IPC channel.
import { FaultUpstream } from '../../libs/fault-upstream/src/index.js';
import type { UpstreamCommand, UpstreamReply } from './remote-upstream.js';

const ends: number[] = [];
const upstream = await FaultUpstream.start({ onRequest: ({ at }) => ends.push(at) });
const reply = (message: UpstreamReply) => process.send!(message);

function answer(command: UpstreamCommand): UpstreamReply {
  switch (command.cmd) {
    case 'faults':
      upstream.setFaults(command.faults);
      return { id: command.id };
    case 'reset':
      upstream.resetStats();
      ends.length = 0;
      return { id: command.id };
    case 'report':
      return { id: command.id, stats: upstream.stats(), ends: [...ends] };
  }
}

process.on('message', (command: UpstreamCommand | { cmd: 'stop' }) => {
  if (command.cmd === 'stop') return void upstream.stop().then(() => process.exit(0));
  try {
    reply(answer(command));
  } catch (error) {
    reply({ id: command.id, error: (error as Error).message });
  }
});
// The benchmark went away (it failed, or was stopped): so does its upstream.
process.on('disconnect', () => process.exit(1));
reply({ id: 0, baseURL: upstream.baseURL });
