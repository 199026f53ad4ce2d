import os from 'node:os';

/** The machine a run measured, printed with the figures: timings only compare on the same machine. */
export interface Machine {
  cpu: string;
  cores: number;
  memoryGb: number;
  node: string;
  platform: string;
  /** 1-minute load average when the run started: other work on the machine skews the tail figures. */
  load: number;
}

/** Describes this machine (CPU model, logical cores, memory, Node version, OS). */
export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown CPU',
    cores: cpus.length,
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    load: Math.round(os.loadavg()[0] * 100) / 100,
  };
}

/** One line for the console and the README: "Intel Xeon ..., 2 cores, 8 GB, Node v20.x, linux ...". */
export function machineLine(machine: Machine): string {
  return `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB, Node ${machine.node}, ${machine.platform}; load average ${machine.load} at start`;
}
