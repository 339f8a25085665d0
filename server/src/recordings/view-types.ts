/** Small shared names, kept apart so the event payload types import nothing with side effects. */
export type RecordingType = 'segment' | 'clip';
export type SegmentKindName = 'continuous' | 'buffer';
