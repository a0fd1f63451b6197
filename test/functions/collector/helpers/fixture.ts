/**
 * The collector suites' shared setup, in the describe block that calls it: a local Pub/Sub Publisher,
 * the collector as deployed publishing to it (`env` plus the emulator host), both stopped after the
 * block, and before each test the Publisher answering and emptied. `bind` hands both to the suite.
 */
import { type CollectorProcess, startCollectorProcess } from "./collector-process";
import { FakePubSub } from "./fake-pubsub";

export function useCollectorFixture(
  env: Record<string, string>,
  bind: (fake: FakePubSub, collector: CollectorProcess) => void,
): void {
  let fake: FakePubSub | undefined;
  let collector: CollectorProcess | undefined;
  before(async () => {
    fake = new FakePubSub();
    await fake.start();
    collector = await startCollectorProcess({ ...env, PUBSUB_EMULATOR_HOST: fake.host });
    bind(fake, collector);
  });
  after(async () => {
    await collector?.stop();
    await fake?.stop();
  });
  beforeEach(() => {
    fake!.setMode("ok");
    fake!.messages.length = 0;
  });
}
