/** What tests, benchmarks and demos read back through `GET /_control/counters`. */
export function createCounters() {
  const apiCalls = new Map<string, number>();
  let throttled = { client: 0, token: 0, chaos: 0 };
  let chaosServerErrors = 0;
  let deliveries = { delivered: 0, http_error: 0, timeout: 0, network_error: 0 };
  let tokenRequests = 0;

  return {
    apiCall(method: string, route: string, status: number): void {
      const key = `${method} ${route} ${status}`;
      apiCalls.set(key, (apiCalls.get(key) ?? 0) + 1);
    },
    throttle(kind: keyof typeof throttled): void {
      throttled[kind]++;
    },
    chaosServerError(): void {
      chaosServerErrors++;
    },
    delivery(result: keyof typeof deliveries): void {
      deliveries[result]++;
    },
    tokenRequest(): void {
      tokenRequests++;
    },
    clear(): void {
      apiCalls.clear();
      throttled = { client: 0, token: 0, chaos: 0 };
      chaosServerErrors = 0;
      deliveries = { delivered: 0, http_error: 0, timeout: 0, network_error: 0 };
      tokenRequests = 0;
    },
    snapshot() {
      return {
        apiCalls: Object.fromEntries([...apiCalls].sort(([a], [b]) => a.localeCompare(b))),
        throttled: { ...throttled, total: throttled.client + throttled.token + throttled.chaos },
        chaosServerErrors,
        deliveries: { ...deliveries },
        tokenRequests,
      };
    },
  };
}

export type Counters = ReturnType<typeof createCounters>;
export type DeliveryResult = 'delivered' | 'http_error' | 'timeout' | 'network_error';
