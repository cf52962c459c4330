import type { ProcessUsage } from '../../src-shared/state';
import type { StateWriter } from '../miner/ports';
import { CORES, readOwnUsage, UsageMeter, type UsageReading } from './process-usage';

export interface ResourceMonitorOptions {
  /** The snapshot's `resources` part, which only this monitor writes. */
  state: StateWriter<'resources'>;
  intervalMs?: number;
  /** This process's reading (a test passes its own). */
  read?: () => UsageReading;
  cores?: number;
}

type TeacherRole = 'teacher' | 'recomputeTeacher';

/**
 * CPU and memory of the app and of its teacher workers, for the dashboard's card when the teacher
 * runs on the CPU. The app is read here; each worker reads itself and its `TeacherHost` passes it
 * on (`report`), since only the process itself can say this on every platform.
 */
export class ResourceMonitor {
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly app: UsageMeter;
  private readonly read: () => UsageReading;

  constructor(private readonly o: ResourceMonitorOptions) {
    this.app = new UsageMeter(o.cores ?? CORES);
    this.read = o.read ?? (() => readOwnUsage());
    o.state.update(({ resources }) => ({ resources: { ...resources, cores: o.cores ?? CORES } }));
  }

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.o.intervalMs ?? 2000);
    this.timer.unref?.();
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** A worker's latest usage; null when it has stopped. */
  report(role: TeacherRole, usage: ProcessUsage | null): void {
    this.o.state.update(({ resources }) => ({ resources: { ...resources, [role]: usage } }));
  }

  private sample(): void {
    const app = this.app.add(this.read());
    this.o.state.update(({ resources }) => ({ resources: { ...resources, app } }));
  }
}
