import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FormField, fillForm, fillFormDetailed, formFieldNames } from '../../server/src/hass/flow-form.js';

/** The Generic Camera `user` step as HA 2025.10–2026.11 serialises it (data_schema). */
const GENERIC_USER: FormField[] = [
  { name: 'still_image_url', type: 'string', optional: true },
  { name: 'stream_source', type: 'string', optional: true },
  { name: 'username', type: 'string', optional: true },
  { name: 'password', type: 'string', optional: true },
  {
    name: 'advanced',
    type: 'expandable',
    required: true,
    expanded: false,
    schema: [
      { name: 'framerate', type: 'float', required: true, default: 2 },
      { name: 'verify_ssl', type: 'boolean', required: true, default: true },
      { name: 'rtsp_transport', type: 'select', optional: true },
      { name: 'authentication', type: 'select', optional: true },
    ],
  },
];

/** The same step before the `advanced` section (HA 2024.x). */
const GENERIC_USER_FLAT: FormField[] = [
  { name: 'still_image_url', type: 'string', optional: true },
  { name: 'stream_source', type: 'string', optional: true },
  { name: 'rtsp_transport', type: 'select', optional: true },
  { name: 'authentication', type: 'select', optional: true },
  { name: 'framerate', type: 'float', required: true, default: 2 },
  { name: 'verify_ssl', type: 'boolean', required: true, default: true },
];

const VALUES = {
  still_image_url: 'http://127.0.0.1:8099/snap.jpg',
  stream_source: 'rtsp://u:p@127.0.0.1:8554/front_door',
  rtsp_transport: 'tcp',
  authentication: 'basic',
  framerate: 2,
  verify_ssl: false,
};

describe('config-flow forms from HA’s data_schema', () => {
  it('puts values where the form has them: inside the advanced section on current HA', () => {
    assert.deepEqual(fillForm(GENERIC_USER, VALUES), {
      still_image_url: VALUES.still_image_url,
      stream_source: VALUES.stream_source,
      advanced: { framerate: 2, verify_ssl: false, rtsp_transport: 'tcp', authentication: 'basic' },
    });
  });

  it('and at the top level on a flat form', () => {
    assert.deepEqual(fillForm(GENERIC_USER_FLAT, VALUES), VALUES);
  });

  it('sends a required section even when none of its fields has a value (MQTT’s other_settings)', () => {
    const mqtt: FormField[] = [
      { name: 'broker', type: 'string', required: true },
      { name: 'port', type: 'integer', required: true, default: 1883 },
      {
        name: 'other_settings',
        type: 'expandable',
        required: true,
        schema: [{ name: 'set_ca_cert', type: 'select', required: true, default: 'off' }],
      },
      {
        name: 'advanced_options',
        type: 'expandable',
        optional: true,
        schema: [{ name: 'keepalive', type: 'integer' }],
      },
    ];
    assert.deepEqual(fillForm(mqtt, { broker: '127.0.0.1', port: 1884 }), {
      broker: '127.0.0.1',
      port: 1884,
      other_settings: {},
    });
  });

  it('fills required fields we have no value for as HA’s frontend does (MQTT 2026.11’s other_settings)', () => {
    const mqtt: FormField[] = [
      { name: 'broker', type: 'string', required: true },
      {
        name: 'other_settings',
        type: 'expandable',
        required: true,
        schema: [
          { name: 'client_id', selector: { text: {} }, optional: true },
          { name: 'set_client_cert', selector: { boolean: {} }, required: true },
          {
            name: 'set_ca_cert',
            selector: {
              select: {
                options: [
                  { value: 'off', label: 'Off' },
                  { value: 'auto', label: 'Auto' },
                ],
              },
            },
            required: true,
          },
          { name: 'framerate', type: 'float', required: true, description: { suggested_value: 2 } },
          { name: 'transport', selector: { select: { options: [] } }, required: true, default: 'tcp' },
        ],
      },
    ];
    assert.deepEqual(fillFormDetailed(mqtt, { broker: 'b' }), {
      data: { broker: 'b', other_settings: { set_client_cert: false, set_ca_cert: 'off', framerate: 2 } },
      unmatched: [],
      missing: [],
    });
  });

  it('a changed form is not guessed at: unknown values go to the top level, missing required ones stay out', () => {
    const changed: FormField[] = [
      { name: 'stream_source', type: 'string', required: true },
      { name: 'transport', type: 'select', required: true },
    ];
    const filled = fillFormDetailed(changed, { stream_source: 'rtsp://x', rtsp_transport: 'tcp' });
    assert.deepEqual(filled.data, { stream_source: 'rtsp://x', rtsp_transport: 'tcp' });
    assert.deepEqual(filled.unmatched, ['rtsp_transport'], 'HA will refuse it with its own message');
    assert.deepEqual(filled.missing, ['transport']);
  });

  it('lists every field name, sections included', () => {
    assert.deepEqual([...formFieldNames(GENERIC_USER)].sort(), [
      'authentication',
      'framerate',
      'password',
      'rtsp_transport',
      'still_image_url',
      'stream_source',
      'username',
      'verify_ssl',
    ]);
  });
});
