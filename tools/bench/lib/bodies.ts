/** The benchmark's request bodies, shared by `bench:collector` and the profiler. */
export const WRITE_KEY = "wk_bench_0123456789abcdef";
export const BATCH_SIZE = 20;

export function event(i: number): Record<string, unknown> {
  // A typical browser track call: analytics.js context, a handful of properties, consent granted.
  return {
    type: "track",
    event: "Product Viewed",
    userId: `user-${i}`,
    anonymousId: `9b2f0c1e-4a5d-4c8e-9f3b-${String(i).padStart(12, "0")}`,
    messageId: `ajs-next-${i}-1c1f8a8e5b2a4c7d9e0f`,
    timestamp: "2025-01-01T12:00:00.000Z",
    properties: {
      product_id: "507f1f77bcf86cd799439011",
      sku: "G-32",
      category: "Games",
      name: "Monopoly",
      price: 18.99,
      currency: "BRL",
      email: "shopper@example.com",
    },
    context: {
      consent: { categoryPreferences: { Analytics: true, Advertising: false } },
      ip: "203.0.113.77",
      library: { name: "analytics.js", version: "next-1.70.0" },
      locale: "pt-BR",
      page: {
        path: "/p/monopoly",
        referrer: "https://www.google.com/",
        title: "Monopoly",
        url: "https://shop.example/p/monopoly",
      },
      userAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    },
  };
}

export function benchSingleBody(): string {
  return JSON.stringify(event(1));
}

export function benchBatchBody(): string {
  return JSON.stringify({
    batch: Array.from({ length: BATCH_SIZE }, (_, i) => event(i)),
    sentAt: "2025-01-01T12:00:01.000Z",
  });
}
