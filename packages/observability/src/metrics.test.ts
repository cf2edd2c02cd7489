import { describe, expect, it } from '@jest/globals';
import { createMetrics } from './metrics.js';

describe('fanout_destination_state', () => {
  it('reports 1 for the state each destination is in and 0 for the others, read at each scrape', async () => {
    const metrics = createMetrics();
    let state = 'open';
    metrics.observeDestinationStates(['closed', 'open', 'half-open', 'paused'], async () => [{ flow: 'shop', destination: 'hooks', state }]);
    const scrape = async () => (await metrics.registry.metrics()).split('\n').filter((line) => line.startsWith('fanout_destination_state{'));
    expect(await scrape()).toEqual([
      'fanout_destination_state{flow="shop",destination="hooks",state="closed"} 0',
      'fanout_destination_state{flow="shop",destination="hooks",state="open"} 1',
      'fanout_destination_state{flow="shop",destination="hooks",state="half-open"} 0',
      'fanout_destination_state{flow="shop",destination="hooks",state="paused"} 0',
    ]);
    state = 'closed';
    expect(await scrape()).toContain('fanout_destination_state{flow="shop",destination="hooks",state="closed"} 1');
  });
});
