/**
 * Controls for the session's editable parameters. Values are checked here only for the viewer's
 * convenience (so an impossible range never costs a query); the API validates them again.
 */
import type { EditableParameter } from './api.ts';
import { humanize } from './data.ts';
import { el } from './dom.ts';

/** Either every control's value (parameters without a value are left out) or the first problem. */
export type ControlsReading =
  | { readonly ok: true; readonly values: Record<string, unknown> }
  | { readonly ok: false; readonly parameter: string; readonly message: string };

interface Control {
  readonly name: string;
  readonly element: HTMLElement;
  /** `undefined` means "no value"; a string result is a validation problem. */
  read(): { value: unknown } | { problem: string } | undefined;
}

export interface ParameterControls {
  readonly element: HTMLElement;
  read(): ControlsReading;
}

const ISO_DAY = /^\d{4}-\d{2}-\d{2}/;

function isoDay(value: unknown): string {
  return typeof value === 'string' && ISO_DAY.test(value) ? value.slice(0, 10) : '';
}

function labelText(parameter: EditableParameter): string {
  return parameter.label?.trim() || humanize(parameter.name);
}

function testId(parameter: EditableParameter, part?: string): string {
  return part ? `control-${parameter.name}-${part}` : `control-${parameter.name}`;
}

/** Builds one control per editable parameter; `undefined` when there is nothing to edit. */
export function createControls(
  parameters: readonly EditableParameter[],
  onChange: () => void,
): ParameterControls | undefined {
  const controls = parameters.map((parameter) => createControl(parameter, onChange));
  if (controls.length === 0) return undefined;
  const form = el('form', {
    className: 'controls',
    attrs: { 'data-testid': 'controls', 'aria-label': 'Filters' },
    children: controls.map((control) => control.element),
  });
  // The form only groups the controls; Enter in a text field must not navigate (form-action 'none').
  form.addEventListener('submit', (event) => event.preventDefault());
  return {
    element: form,
    read() {
      const values: Record<string, unknown> = {};
      for (const control of controls) {
        const reading = control.read();
        if (reading === undefined) continue;
        if ('problem' in reading) return { ok: false, parameter: control.name, message: reading.problem };
        values[control.name] = reading.value;
      }
      return { ok: true, values };
    },
  };
}

function field(parameter: EditableParameter, ...children: Node[]): HTMLElement {
  return el('div', { className: 'control', attrs: { 'data-testid': testId(parameter) }, children });
}

function labelled(parameter: EditableParameter, input: HTMLElement): HTMLLabelElement {
  return el('label', {
    className: 'control-label',
    children: [el('span', { text: labelText(parameter) }), input],
  });
}

function createControl(parameter: EditableParameter, onChange: () => void): Control {
  const allowed = parameter.allowedValues ?? [];
  switch (parameter.type) {
    case 'dateRange':
      return dateRangeControl(parameter, onChange);
    case 'date':
      return dateControl(parameter, onChange);
    case 'boolean':
      return checkboxControl(parameter, onChange);
    case 'stringList':
      return allowed.length > 0 ? multiSelectControl(parameter, onChange) : listTextControl(parameter, onChange);
    case 'number':
      return allowed.length > 0 ? selectControl(parameter, onChange, true) : numberControl(parameter, onChange);
    default:
      return allowed.length > 0 ? selectControl(parameter, onChange, false) : textControl(parameter, onChange);
  }
}

function dateInput(parameter: EditableParameter, part: string, label: string, value: string): HTMLInputElement {
  const input = el('input', { attrs: { type: 'date', 'data-testid': testId(parameter, part), 'aria-label': label } });
  const min = isoDay(parameter.min);
  const max = isoDay(parameter.max);
  if (min) input.min = min;
  if (max) input.max = max;
  input.value = value;
  return input;
}

function dateRangeControl(parameter: EditableParameter, onChange: () => void): Control {
  const current = parameter.value as { from?: unknown; to?: unknown } | undefined;
  const name = labelText(parameter);
  const from = dateInput(parameter, 'from', `${name}: from`, isoDay(current?.from));
  const to = dateInput(parameter, 'to', `${name}: to`, isoDay(current?.to));
  const min = isoDay(parameter.min);
  const max = isoDay(parameter.max);
  // Each end bounds the other so the picker itself prevents an inverted range.
  const syncBounds = () => {
    from.max = to.value || max;
    to.min = from.value || min;
  };
  syncBounds();
  for (const input of [from, to]) {
    input.addEventListener('change', () => {
      syncBounds();
      onChange();
    });
  }
  const group = el('fieldset', {
    className: 'control-range',
    children: [
      el('legend', { text: name }),
      from,
      el('span', { className: 'range-sep', text: '–', attrs: { 'aria-hidden': 'true' } }),
      to,
    ],
  });
  return {
    name: parameter.name,
    element: field(parameter, group),
    read() {
      if (!from.value && !to.value) return undefined;
      if (!from.value || !to.value) return { problem: `Choose both dates for ${name}.` };
      if (from.value > to.value) return { problem: `The start of ${name} is after its end.` };
      if ((min && from.value < min) || (max && to.value > max)) {
        return { problem: `${name} must be between ${min || 'any date'} and ${max || 'any date'}.` };
      }
      return { value: { from: from.value, to: to.value } };
    },
  };
}

function dateControl(parameter: EditableParameter, onChange: () => void): Control {
  const input = dateInput(parameter, 'input', labelText(parameter), isoDay(parameter.value));
  input.addEventListener('change', onChange);
  return {
    name: parameter.name,
    element: field(parameter, labelled(parameter, input)),
    read: () => (input.value ? { value: input.value } : undefined),
  };
}

function checkboxControl(parameter: EditableParameter, onChange: () => void): Control {
  const input = el('input', { attrs: { type: 'checkbox', 'data-testid': testId(parameter, 'input') } });
  input.checked = parameter.value === true;
  input.addEventListener('change', onChange);
  const label = el('label', {
    className: 'control-check',
    children: [input, el('span', { text: labelText(parameter) })],
  });
  return { name: parameter.name, element: field(parameter, label), read: () => ({ value: input.checked }) };
}

function selectControl(parameter: EditableParameter, onChange: () => void, numeric: boolean): Control {
  const select = el('select', { attrs: { 'data-testid': testId(parameter, 'input') } });
  // "Any" exists only when the parameter starts without a value: choosing it drops the filter.
  if (parameter.value === undefined || parameter.value === null) {
    select.append(el('option', { text: 'Any', attrs: { value: '' } }));
  }
  for (const value of parameter.allowedValues ?? []) {
    select.append(el('option', { text: String(value), attrs: { value: String(value) } }));
  }
  if (parameter.value !== undefined && parameter.value !== null) select.value = String(parameter.value);
  select.addEventListener('change', onChange);
  return {
    name: parameter.name,
    element: field(parameter, labelled(parameter, select)),
    read() {
      if (select.value === '') return undefined;
      return { value: numeric ? Number(select.value) : select.value };
    },
  };
}

function numberControl(parameter: EditableParameter, onChange: () => void): Control {
  const input = el('input', { attrs: { type: 'number', step: 'any', 'data-testid': testId(parameter, 'input') } });
  if (typeof parameter.min === 'number') input.min = String(parameter.min);
  if (typeof parameter.max === 'number') input.max = String(parameter.max);
  if (typeof parameter.value === 'number') input.value = String(parameter.value);
  input.addEventListener('input', onChange);
  const name = labelText(parameter);
  return {
    name: parameter.name,
    element: field(parameter, labelled(parameter, input)),
    read() {
      if (input.value.trim() === '') return undefined;
      const value = Number(input.value);
      if (!Number.isFinite(value) || input.validity.badInput) return { problem: `${name} must be a number.` };
      if (typeof parameter.min === 'number' && value < parameter.min) {
        return { problem: `${name} must be at least ${parameter.min}.` };
      }
      if (typeof parameter.max === 'number' && value > parameter.max) {
        return { problem: `${name} must be at most ${parameter.max}.` };
      }
      return { value };
    },
  };
}

function textControl(parameter: EditableParameter, onChange: () => void): Control {
  const input = el('input', {
    attrs: { type: 'text', maxlength: '256', autocomplete: 'off', 'data-testid': testId(parameter, 'input') },
  });
  if (typeof parameter.value === 'string') input.value = parameter.value;
  input.addEventListener('input', onChange);
  return {
    name: parameter.name,
    element: field(parameter, labelled(parameter, input)),
    read: () => (input.value.trim() ? { value: input.value.trim() } : undefined),
  };
}

function listTextControl(parameter: EditableParameter, onChange: () => void): Control {
  const input = el('input', {
    attrs: {
      type: 'text',
      autocomplete: 'off',
      placeholder: 'Comma-separated',
      'data-testid': testId(parameter, 'input'),
    },
  });
  if (Array.isArray(parameter.value)) input.value = parameter.value.map(String).join(', ');
  input.addEventListener('input', onChange);
  return {
    name: parameter.name,
    element: field(parameter, labelled(parameter, input)),
    read() {
      const items = input.value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
      return items.length > 0 ? { value: items } : undefined;
    },
  };
}

/** A compact dropdown of checkboxes: readable in a filter bar, unlike a tall native multi-select. */
function multiSelectControl(parameter: EditableParameter, onChange: () => void): Control {
  const selected = new Set(Array.isArray(parameter.value) ? parameter.value.map(String) : []);
  const summary = el('summary', { className: 'multi-summary', attrs: { 'data-testid': testId(parameter, 'summary') } });
  const list = el('div', { className: 'multi-list', attrs: { role: 'group', 'aria-label': labelText(parameter) } });
  const boxes: HTMLInputElement[] = [];
  for (const value of parameter.allowedValues ?? []) {
    const box = el('input', {
      attrs: { type: 'checkbox', value: String(value), 'data-testid': testId(parameter, `option-${String(value)}`) },
    });
    box.checked = selected.has(String(value));
    box.addEventListener('change', () => {
      refreshSummary();
      onChange();
    });
    boxes.push(box);
    list.append(el('label', { className: 'control-check', children: [box, el('span', { text: String(value) })] }));
  }
  const refreshSummary = () => {
    const chosen = boxes.filter((box) => box.checked).map((box) => box.value);
    summary.textContent =
      chosen.length === 0 ? 'Any' : chosen.length <= 2 ? chosen.join(', ') : `${chosen.length} selected`;
  };
  refreshSummary();
  const details = el('details', { className: 'multi', children: [summary, list] });
  const wrapper = el('div', {
    className: 'control-label',
    children: [el('span', { text: labelText(parameter) }), details],
  });
  return {
    name: parameter.name,
    element: field(parameter, wrapper),
    read() {
      const chosen = boxes.filter((box) => box.checked).map((box) => box.value);
      return chosen.length > 0 ? { value: chosen } : undefined;
    },
  };
}
