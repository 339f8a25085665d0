import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVENT_PARAM, eventIdFromSearch, eventRoute } from '../../panel/src/deep-link.js';

describe('panel: the link of a notification', () => {
  it('takes only an event id of the form evt_<n> from the query', () => {
    assert.equal(eventIdFromSearch(`?${EVENT_PARAM}=evt_12`), 'evt_12');
    assert.equal(eventIdFromSearch(`?a=1&${EVENT_PARAM}=evt_3&b=2`), 'evt_3');
    assert.equal(eventIdFromSearch(''), null);
    assert.equal(eventIdFromSearch(`?${EVENT_PARAM}=`), null);
    assert.equal(eventIdFromSearch(`?${EVENT_PARAM}=../../api/cameras`), null);
    assert.equal(eventIdFromSearch(`?${EVENT_PARAM}=evt_1x`), null);
  });

  it('goes to the recordings of the event camera and day, 3 s before it starts', () => {
    const start = new Date(2026, 11, 5, 9, 30, 0);
    const route = eventRoute('front_door', start.toISOString());
    const [path, search] = route.split('?');
    assert.equal(path, 'recordings');
    const p = new URLSearchParams(search);
    assert.equal(p.get('camera'), 'front_door');
    assert.equal(p.get('day'), '2026-12-05');
    assert.equal(Number(p.get('at')), start.getTime() - 3000);
  });
});
