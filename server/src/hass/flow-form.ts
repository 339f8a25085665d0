/**
 * Filling a Home Assistant config-flow form from the `data_schema` HA itself returns (pure).
 *
 * HA serialises a flow step's schema as a list of fields (`voluptuous_serialize`): `{name, type,
 * required, optional, default, …}`, and a section (`data_entry_flow.section`, e.g. the Generic
 * Camera's `advanced`) as `{name, type: "expandable", schema: [...fields], required}`, whose
 * values the step expects nested under the section's name.
 *
 * We know values by field name, wherever HA puts the field: a value goes where the form has a
 * field of that name (top level or inside a section), and a required section is always sent (as
 * `{}` if none of its fields has a value). A required field we have no value for is filled the
 * way HA's own frontend pre-fills its form: the field's `suggested_value`, else `false` for a
 * boolean and the first option of a select (HA applies a `default` itself). A value the form has
 * no field for is still sent, at
 * the top level: the step then fails with HA's own message ("extra keys not allowed @ …"), which
 * the caller logs and shows. A required field we know nothing about is left out, and HA answers
 * "required key not provided @ …". Never a guess by version number: a changed form fails loudly.
 */

export interface FormField {
  name: string;
  type?: string;
  required?: boolean;
  optional?: boolean;
  default?: unknown;
  /** The fields of a section (`type: "expandable"`). */
  schema?: FormField[];
  [key: string]: unknown;
}

export interface FilledForm {
  data: Record<string, unknown>;
  /** Values the form has no field for (sent at the top level; HA will refuse them). */
  unmatched: string[];
  /** Required fields (by path) we have no value for and that have no default (HA will refuse). */
  missing: string[];
}

/** What HA's frontend puts in a required field the user leaves alone; undefined when nothing. */
function frontendInitial(field: FormField): unknown {
  const description = field.description as { suggested_value?: unknown } | undefined;
  if (description?.suggested_value !== undefined) return description.suggested_value;
  const selector = field.selector as
    | { boolean?: unknown; select?: { options?: (string | { value: unknown })[]; multiple?: boolean } }
    | undefined;
  if (field.type === 'boolean' || selector?.boolean !== undefined) return false;
  if (selector?.select && !selector.select.multiple) {
    const first = selector.select.options?.[0];
    return typeof first === 'object' && first !== null ? first.value : first;
  }
  if (field.type === 'select' && Array.isArray(field.options)) {
    const first = (field.options as unknown[])[0];
    return Array.isArray(first) ? first[0] : first;
  }
  return undefined;
}

function isSection(field: FormField): boolean {
  return field.type === 'expandable' && Array.isArray(field.schema);
}

/** Every field name the form knows, in sections too. */
export function formFieldNames(schema: readonly FormField[]): Set<string> {
  const names = new Set<string>();
  for (const f of schema) {
    if (isSection(f)) for (const n of formFieldNames(f.schema ?? [])) names.add(n);
    else names.add(f.name);
  }
  return names;
}

function fill(
  schema: readonly FormField[],
  values: Readonly<Record<string, unknown>>,
  used: Set<string>,
  missing: string[],
  path: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of schema) {
    if (isSection(field)) {
      const inner = fill(field.schema ?? [], values, used, missing, `${path}${field.name}.`);
      if (Object.keys(inner).length > 0 || field.required) out[field.name] = inner;
      continue;
    }
    if (Object.hasOwn(values, field.name) && values[field.name] !== undefined) {
      out[field.name] = values[field.name];
      used.add(field.name);
    } else if (field.required && field.default === undefined) {
      const initial = frontendInitial(field);
      if (initial !== undefined) out[field.name] = initial;
      else missing.push(`${path}${field.name}`);
    }
  }
  return out;
}

/** The step's input for these values, laid out as the form wants it (see the module comment). */
export function fillFormDetailed(schema: readonly FormField[], values: Readonly<Record<string, unknown>>): FilledForm {
  const used = new Set<string>();
  const missing: string[] = [];
  const data = fill(schema, values, used, missing, '');
  const unmatched: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    if (used.has(name) || value === undefined) continue;
    unmatched.push(name);
    data[name] = value;
  }
  return { data, unmatched, missing };
}

export function fillForm(
  schema: readonly FormField[],
  values: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  return fillFormDetailed(schema, values).data;
}
