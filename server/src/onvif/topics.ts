// ONVIF topics → Camstack event types (the contract's DetectionType), with start/end read from the
// message's data. Pure.
import type { DetectionType } from '../contract/index.js';
import type { RawNotification } from './events.js';

/** The event types of the contract; every one of them has ONVIF topics that map to it. */
export type OnvifEventType = DetectionType;

export interface OnvifEvent {
  type: OnvifEventType;
  state: 'start' | 'end';
  /** The normalised topic, e.g. `RuleEngine/CellMotionDetector/Motion`. */
  topic: string;
  /** What raised it: the message's source item values joined with `/` (a video source, rule or input token). */
  source: string;
  /** Local time in ms: the camera's time corrected by the clock offset, or the receive time. */
  at: number;
  /** The camera's state report at subscription time (PropertyOperation="Initialized"). */
  initial?: boolean;
  /** An event with no duration (a line crossed, an object counted): reported as start then end. */
  momentary?: boolean;
}

/**
 * `tns1:RuleEngine/CellMotionDetector/Motion/` → `RuleEngine/CellMotionDetector/Motion`: namespace
 * prefixes dropped from every segment, trailing `/` and `.` removed.
 */
export function normaliseTopic(topic: string): string {
  return topic
    .trim()
    .split('/')
    .map((seg) => seg.slice(seg.indexOf(':') + 1))
    .join('/')
    .replace(/[/.]+$/, '');
}

interface TopicRule {
  match: (topic: string) => boolean;
  type: OnvifEventType;
  /** The data items that carry the state, in the order we trust them. */
  items: string[];
  /**
   * For a topic that carries several kinds of event (TP-Link's smart event), the type by the
   * name of the data item that is set; an item not listed (a baby crying) is not mapped.
   */
  byItem?: Record<string, OnvifEventType>;
}

const exact =
  (...topics: string[]) =>
  (t: string) =>
    topics.some((x) => x.toLowerCase() === t.toLowerCase());
const lastSegment = (re: RegExp) => (t: string) => re.test(t.slice(t.lastIndexOf('/') + 1));

const RULES: TopicRule[] = [
  { match: exact('RuleEngine/CellMotionDetector/Motion'), type: 'motion', items: ['IsMotion', 'State'] },
  // `VideoSoure` (sic) is how some firmwares spell it.
  { match: exact('VideoSource/MotionAlarm', 'VideoSoure/MotionAlarm'), type: 'motion', items: ['State', 'IsMotion'] },
  { match: exact('RuleEngine/MotionRegionDetector/Motion'), type: 'motion', items: ['State', 'IsMotion'] },
  { match: exact('RuleEngine/MyRuleDetector/PeopleDetect'), type: 'person', items: ['State', 'IsPeople'] },
  { match: exact('RuleEngine/MyRuleDetector/VehicleDetect'), type: 'vehicle', items: ['State', 'IsVehicle'] },
  { match: exact('RuleEngine/LineDetector/Crossed'), type: 'line_crossing', items: ['State'] },
  {
    match: exact('RuleEngine/LineCrossDetector/LineCross'),
    type: 'line_crossing',
    items: ['IsLineCross', 'State'],
  },
  {
    match: exact('RuleEngine/IntrusionDetector/Intrusion'),
    type: 'intrusion',
    items: ['IsIntrusion', 'State'],
  },
  {
    match: exact('RuleEngine/TPSmartEventDetector/TPSmartEvent'),
    type: 'motion',
    items: [],
    byItem: {
      IsVehicle: 'vehicle',
      IsPeople: 'person',
      IsPerson: 'person',
      IsHuman: 'person',
      IsPet: 'animal',
      IsAnimal: 'animal',
      IsMotion: 'motion',
    },
  },
  { match: exact('RuleEngine/TamperDetector/Tamper'), type: 'tamper', items: ['IsTamper', 'State'] },
  {
    match: (t) =>
      /^VideoSource\/(GlobalSceneChange|ImageTooBlurry|ImageTooDark|ImageTooBright|SignalLoss)(\/|$)/i.test(t),
    type: 'tamper',
    items: ['State'],
  },
  // An object inside a field (a region rule) is an intrusion.
  { match: exact('RuleEngine/FieldDetector/ObjectsInside'), type: 'intrusion', items: ['IsInside', 'State'] },
  { match: exact('Device/Trigger/DigitalInput'), type: 'digital_input', items: ['LogicalState', 'State'] },
  // Axis and others: an input port's state.
  { match: exact('Device/IO/Port', 'Device/IO/VirtualPort'), type: 'digital_input', items: ['state', 'State'] },
  // Vendors' own detectors, recognised by the last segment of the topic.
  { match: lastSegment(/^(People|Person|Human)(Detect(ion|or)?)?$/i), type: 'person', items: ['State', 'IsPeople'] },
  { match: lastSegment(/^(Vehicle|Car)(Detect(ion|or)?)?$/i), type: 'vehicle', items: ['State', 'IsVehicle'] },
  { match: lastSegment(/^(LineCross(ing|ed)?|Crossed)$/i), type: 'line_crossing', items: ['State'] },
  { match: lastSegment(/^(Animal|Pet|DogCat)(Detect(ion|or)?)?$/i), type: 'animal', items: ['State', 'IsPet'] },
  { match: lastSegment(/^(Intrusion|FieldDetect(ion|or)?)$/i), type: 'intrusion', items: ['State', 'IsIntrusion'] },
  { match: lastSegment(/^(Motion|MotionAlarm|MotionDetect(ion)?)$/i), type: 'motion', items: ['State', 'IsMotion'] },
];

/** `true`/`false` and their spellings; numbers only for an item we know carries a state. */
function toBool(value: string, known: boolean): boolean | undefined {
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === 'active' || v === 'on') return true;
  if (v === 'false' || v === 'inactive' || v === 'off') return false;
  if (known && v === '1') return true;
  if (known && v === '0') return false;
  return undefined;
}

function stateOf(rule: TopicRule, data: RawNotification['data']): boolean | undefined {
  for (const name of rule.items) {
    const item = data.find((d) => d.name.toLowerCase() === name.toLowerCase());
    if (item) {
      const b = toBool(item.value, true);
      if (b !== undefined) return b;
    }
  }
  // A name we did not expect (`IsMotion` where `State` was documented, and the like).
  for (const item of data) {
    const b = toBool(item.value, false);
    if (b !== undefined) return b;
  }
  return undefined;
}

/** How far a camera's corrected timestamp may be from the receive time before we distrust it. */
const MAX_SKEW_MS = 60 * 60 * 1000;

/**
 * The Camstack events of one notification: none for a topic we do not map, one start or end for a
 * state, a start and an end for a momentary event. `offsetMs` is the camera's clock minus ours.
 */
export function mapNotification(msg: RawNotification, receivedAt: number, offsetMs = 0): OnvifEvent[] {
  const topic = normaliseTopic(msg.topic);
  const rule = RULES.find((r) => r.match(topic));
  if (!rule) return [];
  if (msg.operation === 'Deleted') return [];
  const corrected = msg.utcTime !== undefined ? msg.utcTime - offsetMs : undefined;
  const at = corrected !== undefined && Math.abs(corrected - receivedAt) <= MAX_SKEW_MS ? corrected : receivedAt;
  const source = msg.source.map((s) => s.value).join('/');
  const initial = msg.operation === 'Initialized' ? { initial: true } : {};
  if (rule.byItem) {
    const byItem = rule.byItem;
    const out: OnvifEvent[] = [];
    for (const item of msg.data) {
      const type = Object.entries(byItem).find(([name]) => name.toLowerCase() === item.name.toLowerCase())?.[1];
      const b = type ? toBool(item.value, true) : undefined;
      if (type && b !== undefined) out.push({ type, state: b ? 'start' : 'end', topic, source, at, ...initial });
    }
    return out;
  }
  const state = stateOf(rule, msg.data);
  if (state === undefined) {
    // An event without a state (a line crossed, an object id counted): it happened, now.
    if (msg.operation === 'Initialized') return [];
    const base = { type: rule.type, topic, source, at, momentary: true };
    return [
      { ...base, state: 'start' },
      { ...base, state: 'end' },
    ];
  }
  return [{ type: rule.type, state: state ? 'start' : 'end', topic, source, at, ...initial }];
}
