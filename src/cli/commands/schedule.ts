import type { Command } from 'commander';
import { registerScheduleAdd } from './schedule-add.js';
import { registerScheduleApply } from './schedule-apply.js';
import { registerScheduleManage } from './schedule-manage.js';
import { registerScheduleTrigger } from './schedule-trigger.js';

/** `fleetscan schedule …`: recurring campaigns fired by the workers (src/schedules). */
export function registerScheduleCommands(program: Command): void {
  const schedule = program
    .command('schedule')
    .description('Scheduled scans: cron in a time zone, overlap and catch-up rules, run history')
    .addHelpText(
      'after',
      '\nExample:\n  fleetscan schedule add nightly --cron "0 2 * * *" --tz Europe/Berlin --tag Servers --comment "Nightly quick scan"\n' +
        '  fleetscan schedule list\n\nRunning workers (`fleetscan worker`) fire the schedules; one of them at a time does it.',
    );
  registerScheduleAdd(schedule);
  registerScheduleManage(schedule);
  registerScheduleTrigger(schedule);
  registerScheduleApply(schedule);
}
