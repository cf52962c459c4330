import { z } from 'zod';

/**
 * When mining is allowed, per weekday in local time. A window whose end is not after its start
 * runs past midnight into the next day ("Friday 22:00–07:00" ends Saturday morning), which is how
 * people say it. `null` in the config means "any time".
 */
const HOUR_MINUTE = /^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/;
const ClockTime = z.string().regex(HOUR_MINUTE, 'use HH:MM, 00:00 to 24:00');

const ScheduleWindow = z.object({ start: ClockTime, end: ClockTime });
type ScheduleWindow = z.infer<typeof ScheduleWindow>;

/** Seven lists of windows, Sunday first (as `Date.getDay()` counts). */
export const WeeklySchedule = z.array(z.array(ScheduleWindow)).length(7, 'one list per weekday, Sunday first');
export type WeeklySchedule = z.infer<typeof WeeklySchedule>;

/** A moment in the user's local time; the caller computes it so the policy stays pure. */
export interface LocalTime {
  /** 0 = Sunday … 6 = Saturday. */
  weekday: number;
  minuteOfDay: number;
}

const WEEKDAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MINUTES_PER_DAY = 24 * 60;
const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;

export function localTimeOf(ms: number): LocalTime {
  const date = new Date(ms);
  return { weekday: date.getDay(), minuteOfDay: date.getHours() * 60 + date.getMinutes() };
}

export type ScheduleVerdict = { allowed: true } | { allowed: false; next: LocalTime | null };

export function checkSchedule(schedule: WeeklySchedule, at: LocalTime): ScheduleVerdict {
  const now = at.weekday * MINUTES_PER_DAY + at.minuteOfDay;
  const spans = weekSpans(schedule);
  const inside = spans.some(([start, end]) => within(now, start, end) || within(now + MINUTES_PER_WEEK, start, end));
  if (inside) return { allowed: true };
  if (spans.length === 0) return { allowed: false, next: null };
  const wait = Math.min(...spans.map(([start]) => mod(start - now, MINUTES_PER_WEEK)));
  const next = mod(now + wait, MINUTES_PER_WEEK);
  return {
    allowed: false,
    next: { weekday: Math.floor(next / MINUTES_PER_DAY), minuteOfDay: next % MINUTES_PER_DAY },
  };
}

export function formatLocalTime(at: LocalTime): string {
  const hh = String(Math.floor(at.minuteOfDay / 60)).padStart(2, '0');
  const mm = String(at.minuteOfDay % 60).padStart(2, '0');
  return `${WEEKDAY_NAMES[at.weekday]} ${hh}:${mm}`;
}

/** Windows as [start, end) minute-of-week spans; an overnight window's end may pass a week. */
function weekSpans(schedule: WeeklySchedule): [number, number][] {
  return schedule.flatMap((windows, weekday) =>
    windows.map((window): [number, number] => {
      const start = weekday * MINUTES_PER_DAY + toMinutes(window.start);
      const endOfDay = weekday * MINUTES_PER_DAY + toMinutes(window.end);
      return [start, endOfDay > start ? endOfDay : endOfDay + MINUTES_PER_DAY];
    }),
  );
}

function toMinutes(clock: string): number {
  const [hours, minutes] = clock.split(':').map(Number);
  return hours! * 60 + minutes!;
}

function within(t: number, start: number, end: number): boolean {
  return t >= start && t < end;
}

function mod(value: number, by: number): number {
  return ((value % by) + by) % by;
}
