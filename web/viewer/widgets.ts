/**
 * Widget views: KPI number, bar and line charts (uPlot), and a plain DOM table. Every value
 * reaches the page through `textContent` or canvas drawing, never as markup.
 */
import uPlot from 'uplot';
import type { WidgetDefinition, WidgetResult } from './api.ts';
import {
  type Matrix,
  formatCategories,
  formatCell,
  formatCompact,
  formatNumber,
  isNumericColumn,
  toDateMs,
  toMatrix,
  toNumber,
} from './data.ts';
import { el } from './dom.ts';

/** A rendered widget that can take new data in place. */
export interface WidgetView {
  readonly element: HTMLElement;
  update(result: WidgetResult | undefined): void;
  destroy(): void;
}

const PALETTE = ['#2563eb', '#0d9488', '#f59e0b', '#db2777', '#7c3aed', '#64748b'];
const CHART_HEIGHT = 220;
const TABLE_ROW_LIMIT = 500;

/** Creates the view for one widget definition; unknown types get a neutral notice. */
export function createWidget(definition: WidgetDefinition): WidgetView {
  const card = el('section', {
    className: `widget widget-${definition.type}`,
    attrs: { 'data-testid': `widget-${definition.id}`, 'data-widget-type': definition.type },
  });
  const title = definition.title?.trim() || definition.id;
  card.append(el('h2', { className: 'widget-title', text: title }));
  const body = el('div', { className: 'widget-body' });
  card.append(body);

  switch (definition.type) {
    case 'number':
      return contentWidget(card, body, renderNumber);
    case 'table':
      return contentWidget(card, body, renderTable);
    case 'bar':
    case 'line':
      return chartWidget(card, body, definition.type, title);
    default:
      body.append(el('p', { className: 'widget-note', text: 'This widget type is not supported.' }));
      return { element: card, update: () => undefined, destroy: () => undefined };
  }
}

function emptyNotice(): HTMLElement {
  return el('p', {
    className: 'widget-note',
    text: 'No data for these filters.',
    attrs: { 'data-testid': 'widget-empty' },
  });
}

/** A widget whose content is rebuilt from scratch on each update (KPI, table). */
function contentWidget(card: HTMLElement, body: HTMLElement, render: (matrix: Matrix) => HTMLElement): WidgetView {
  return {
    element: card,
    update(result) {
      const matrix = result ? toMatrix(result) : undefined;
      body.replaceChildren(matrix && matrix.rows.length > 0 ? render(matrix) : emptyNotice());
    },
    destroy: () => card.remove(),
  };
}

function renderNumber(matrix: Matrix): HTMLElement {
  const row = matrix.rows[0] ?? [];
  let index = matrix.columns.findIndex((_, i) => toNumber(row[i]) !== undefined);
  if (index < 0) index = 0;
  const value = toNumber(row[index]);
  const wrapper = el('div', { className: 'kpi' });
  wrapper.append(
    el('div', {
      className: 'kpi-value',
      text: value === undefined ? formatCell(row[index]) : formatNumber(value),
      attrs: { 'data-testid': 'kpi-value' },
    }),
  );
  const label = matrix.columns[index]?.label;
  if (label) wrapper.append(el('div', { className: 'kpi-label', text: label }));
  return wrapper;
}

function renderTable(matrix: Matrix): HTMLElement {
  const numeric = matrix.columns.map((_, i) => isNumericColumn(matrix, i));
  const table = el('table', { className: 'data-table' });
  const headRow = el('tr');
  matrix.columns.forEach((column, i) => {
    headRow.append(el('th', { text: column.label, className: numeric[i] ? 'num' : '', attrs: { scope: 'col' } }));
  });
  table.append(el('thead', { children: [headRow] }));
  const tbody = el('tbody');
  for (const row of matrix.rows.slice(0, TABLE_ROW_LIMIT)) {
    const tr = el('tr');
    matrix.columns.forEach((_, i) => {
      tr.append(el('td', { text: formatCell(row[i]), className: numeric[i] ? 'num' : '' }));
    });
    tbody.append(tr);
  }
  table.append(tbody);
  const wrapper = el('div', { className: 'table-scroll', children: [table] });
  if (matrix.truncated || matrix.rows.length > TABLE_ROW_LIMIT) {
    const shown = Math.min(matrix.rows.length, TABLE_ROW_LIMIT);
    return el('div', {
      children: [
        wrapper,
        el('p', { className: 'widget-note', text: `Showing the first ${formatNumber(shown)} rows.` }),
      ],
    });
  }
  return wrapper;
}

interface ChartData {
  readonly data: uPlot.AlignedData;
  readonly seriesLabels: readonly string[];
  /** Category labels when x is an index; undefined for a time axis. */
  readonly categories: readonly string[] | undefined;
}

/** x from the first column; one series per further numeric column. Lines over dates get a time axis. */
function toChartData(matrix: Matrix, type: 'bar' | 'line'): ChartData | undefined {
  if (matrix.rows.length === 0 || matrix.columns.length < 2) return undefined;
  const seriesIndexes = matrix.columns.map((_, i) => i).filter((i) => i > 0 && isNumericColumn(matrix, i));
  if (seriesIndexes.length === 0) return undefined;

  const xValues = matrix.rows.map((row) => row[0]);
  const times = xValues.map((value) => toDateMs(value));
  const timeAxis = type === 'line' && times.every((t) => t !== undefined);

  let order = matrix.rows.map((_, i) => i);
  // uPlot needs ascending x; category charts keep the order the query chose.
  if (timeAxis) order = order.sort((a, b) => (times[a] ?? 0) - (times[b] ?? 0));

  const x = timeAxis ? order.map((i) => (times[i] ?? 0) / 1000) : order.map((_, i) => i);
  const series = seriesIndexes.map((column) =>
    order.map((i) => {
      const value = toNumber(matrix.rows[i]?.[column]);
      return value === undefined ? null : value;
    }),
  );
  return {
    data: [x, ...series] as uPlot.AlignedData,
    seriesLabels: seriesIndexes.map((i) => matrix.columns[i]?.label ?? ''),
    categories: timeAxis ? undefined : formatCategories(order.map((i) => xValues[i])),
  };
}

function chartOptions(chart: ChartData, type: 'bar' | 'line', width: number, title: string): uPlot.Options {
  const categories = chart.categories;
  const count = chart.seriesLabels.length;
  const axisStyle = {
    stroke: '#6b7280',
    font: '11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
    grid: { stroke: '#eef0f3', width: 1 },
    ticks: { stroke: '#e5e7eb', width: 1, size: 4 },
  };
  const barGroup = 0.7;
  const barWidth = barGroup / count;

  const series: uPlot.Series[] = [
    {},
    ...chart.seriesLabels.map((label, s): uPlot.Series => {
      const color = PALETTE[s % PALETTE.length] ?? '#2563eb';
      if (type === 'line') {
        return { label, stroke: color, width: 2, points: { show: chart.data[0].length <= 40, size: 5 } };
      }
      return {
        label,
        stroke: color,
        fill: color,
        width: 0,
        points: { show: false },
        paths: uPlot.paths.bars?.({
          size: [barGroup, 64],
          radius: 0.15,
          // Side-by-side groups: each series is shifted within its category slot (x values are indexes).
          disp:
            count > 1
              ? {
                  x0: {
                    unit: 1,
                    values: (u) => (u.data[0] as number[]).map((x) => x - barGroup / 2 + s * barWidth),
                  },
                  size: { unit: 1, values: (u) => (u.data[0] as number[]).map(() => barWidth) },
                }
              : undefined,
        }),
      };
    }),
  ];

  return {
    width,
    height: CHART_HEIGHT,
    // A static legend: live hover values would show '--' placeholders most of the time.
    legend: { show: count > 1, live: false },
    cursor: { drag: { x: false, y: false }, points: { show: type === 'line' } },
    scales: {
      x: categories
        ? { time: false, range: () => [-0.5, Math.max(0, (categories.length ?? 1) - 0.5)] }
        : { time: true },
      y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.08 : 1] },
    },
    axes: [
      {
        ...axisStyle,
        grid: { show: false },
        ...(categories
          ? {
              splits: () => categories.map((_, i) => i),
              values: (_u: uPlot, splits: number[]) => splits.map((i) => categories[i] ?? ''),
            }
          : {}),
      },
      { ...axisStyle, size: 52, values: (_u, splits) => splits.map((v) => formatCompact(v)) },
    ],
    series,
    // The chart's accessible name; the canvas itself has no text.
    plugins: [{ hooks: { init: (u) => u.root.setAttribute('aria-label', title) } }],
  };
}

function chartWidget(card: HTMLElement, body: HTMLElement, type: 'bar' | 'line', title: string): WidgetView {
  const holder = el('div', { className: 'chart', attrs: { 'data-testid': 'chart', role: 'img' } });
  let plot: uPlot | undefined;
  let lastWidth = 0;

  const width = (): number => Math.max(160, Math.floor(holder.clientWidth || body.clientWidth || 400));
  // Charts follow their card's width; the observer fires after layout so the first size is right too.
  const observer = new ResizeObserver(() => {
    const next = width();
    if (plot && next !== lastWidth) {
      lastWidth = next;
      plot.setSize({ width: next, height: CHART_HEIGHT });
    }
  });
  observer.observe(body);

  return {
    element: card,
    update(result) {
      plot?.destroy();
      plot = undefined;
      const chart = result ? toChartData(toMatrix(result), type) : undefined;
      if (!chart) {
        body.replaceChildren(emptyNotice());
        return;
      }
      holder.replaceChildren();
      body.replaceChildren(holder);
      lastWidth = width();
      plot = new uPlot(chartOptions(chart, type, lastWidth, title), chart.data, holder);
      holder.dataset.points = String(chart.data[0].length);
      holder.dataset.series = String(chart.seriesLabels.length);
    },
    destroy() {
      observer.disconnect();
      plot?.destroy();
      card.remove();
    },
  };
}
