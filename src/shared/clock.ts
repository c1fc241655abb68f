/**
 * The service's notion of "now" for everything Patreon's dates are compared with: entitlement
 * decisions, the schedule of changes that time makes, analytics windows. Passed to `buildApp`, so
 * a test pins it (and can move it); leases, timeouts and back-off keep measuring real elapsed time.
 */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

/**
 * A clock that starts at `start` and then ticks with real time: what tests pin, so dates are
 * fixed while timers and elapsed times still behave. `advance` moves it forward.
 */
export type MovableClock = Clock & { advance(ms: number): void };

export function startingClock(start: Date | string): MovableClock {
  const offsetFromReal = { ms: new Date(start).getTime() - performance.now() };
  const clock = () => new Date(performance.now() + offsetFromReal.ms);
  return Object.assign(clock, {
    advance(ms: number) {
      offsetFromReal.ms += ms;
    },
  });
}
