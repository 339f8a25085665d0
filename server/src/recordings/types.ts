/**
 * Payloads of the recording events on the bus (see `CamstackEvents` in events/bus.ts): the
 * contract's, re-exported for the recordings parts.
 */
export type {
  ClipFailedEvent,
  ClipSavedEvent,
  ClipStartedEvent,
  DeletionReason,
  RecordingDeletedEvent,
  RecordingExpiringEvent,
  RecordingSegmentEvent,
} from '../contract/index.js';
