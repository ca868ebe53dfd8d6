import type { FireOutcome } from './schedule.js';
import type { ScheduleStore } from './schedule-store.js';
import { scheduleView, type ScheduleView } from './schedule-view.js';

/** What the dashboard reads about schedules (panel and /metrics). */
export interface ScheduleReader {
  views(): Promise<ScheduleView[]>;
  fireCounts(): Promise<Record<FireOutcome, number>>;
}

export function createScheduleReader(store: ScheduleStore): ScheduleReader {
  return {
    async views() {
      const schedules = await store.list();
      return Promise.all(
        schedules.map(async (s) =>
          scheduleView(s, (await store.history(s.spec.name, 1))[0] ?? null),
        ),
      );
    },
    fireCounts: () => store.fireCounts(),
  };
}
