/**
 * The viewer's three screens (loading, dashboard, error) in `#embed-root`, mirrored in
 * `document.body.dataset.state` so tests and the host page can wait on them.
 */
import type { EditableParameter, QueryResult, WidgetDefinition } from './api.ts';
import { type ParameterControls, createControls } from './controls.ts';
import { el } from './dom.ts';
import { describeError } from './errors.ts';
import { type WidgetView, createWidget } from './widgets.ts';

export type ViewerState = 'loading' | 'ready' | 'error';

/** The dashboard: title, filter controls and the widget grid, updated in place. */
export class DashboardView {
  readonly element: HTMLElement;
  readonly controls: ParameterControls | undefined;
  private readonly widgets = new Map<string, WidgetView>();
  private readonly grid: HTMLElement;
  private readonly notice: HTMLElement;

  constructor(
    title: string,
    widgets: readonly WidgetDefinition[],
    parameters: readonly EditableParameter[],
    onChange: () => void,
  ) {
    this.controls = createControls(parameters, onChange);
    this.notice = el('div', { className: 'query-notice', attrs: { 'aria-live': 'polite' } });
    this.notice.hidden = true;
    this.grid = el('div', { className: 'grid', attrs: { 'data-testid': 'widgets' } });
    for (const definition of widgets) {
      const view = createWidget(definition);
      this.widgets.set(definition.id, view);
      this.grid.append(view.element);
    }
    const header = el('header', { className: 'dash-header' });
    if (title)
      header.append(el('h1', { className: 'dash-title', text: title, attrs: { 'data-testid': 'dashboard-title' } }));
    if (this.controls) header.append(this.controls.element);
    this.element = el('div', {
      className: 'dashboard',
      attrs: { 'data-testid': 'dashboard' },
      children: [header, this.notice, this.grid],
    });
  }

  /** Gives every widget its slice of one query result. */
  update(data: QueryResult): void {
    for (const [id, view] of this.widgets) view.update(data.widgets[id]);
    this.hasData = true;
    this.grid.dataset.rendered = 'true';
  }

  /** True once the widgets show data (the first full render). */
  hasData = false;

  /** Dims the widgets while a query is in flight (the previous data stays readable). */
  setUpdating(updating: boolean): void {
    this.grid.classList.toggle('is-updating', updating);
    if (updating) this.grid.setAttribute('aria-busy', 'true');
    else this.grid.removeAttribute('aria-busy');
  }

  /** A problem with the filters or a failed refresh, shown above the widgets. */
  showNotice(code: string, message: string, retry?: () => void): void {
    const text = el('span', { text: message });
    const children: Node[] = [text];
    if (retry) {
      const button = el('button', { className: 'button-link', text: 'Try again', attrs: { type: 'button' } });
      button.addEventListener('click', retry);
      children.push(button);
    }
    this.notice.replaceChildren(...children);
    this.notice.setAttribute('data-testid', 'query-error');
    this.notice.setAttribute('data-error-code', code);
    this.notice.setAttribute('role', 'alert');
    this.notice.hidden = false;
  }

  clearNotice(): void {
    this.notice.hidden = true;
    this.notice.replaceChildren();
    this.notice.removeAttribute('data-error-code');
    this.notice.removeAttribute('role');
  }

  destroy(): void {
    for (const view of this.widgets.values()) view.destroy();
    this.widgets.clear();
  }
}

/** Owns `#embed-root` and the body's `data-state`. */
export class ViewerScreen {
  private dashboard: DashboardView | undefined;

  constructor(private readonly root: HTMLElement) {}

  showLoading(message = 'Loading dashboard…'): void {
    this.clearDashboard();
    this.root.replaceChildren(
      el('div', {
        className: 'state state-loading',
        attrs: { 'data-testid': 'loading', role: 'status' },
        children: [
          el('span', { className: 'spinner', attrs: { 'aria-hidden': 'true' } }),
          el('p', { className: 'state-title', text: message }),
        ],
      }),
    );
    document.body.dataset.state = 'loading';
  }

  showDashboard(view: DashboardView): void {
    this.clearDashboard();
    this.dashboard = view;
    this.root.replaceChildren(view.element);
    document.body.dataset.state = 'ready';
  }

  /** Replaces everything with the error's message; the code stays machine-readable. */
  showError(code: string, retry?: () => void): void {
    this.clearDashboard();
    const description = describeError(code);
    const box = el('div', {
      className: 'state state-error',
      attrs: { 'data-testid': 'error', 'data-error-code': code, role: 'alert' },
      children: [
        el('div', { className: 'state-icon', text: '!', attrs: { 'aria-hidden': 'true' } }),
        el('p', { className: 'state-title', text: description.title, attrs: { 'data-testid': 'error-title' } }),
        el('p', { className: 'state-detail', text: description.detail }),
      ],
    });
    if (retry && description.retryable) {
      const button = el('button', {
        className: 'button',
        text: 'Try again',
        attrs: { type: 'button', 'data-testid': 'retry' },
      });
      button.addEventListener('click', retry);
      box.append(button);
    }
    this.root.replaceChildren(box);
    document.body.dataset.state = 'error';
  }

  private clearDashboard(): void {
    this.dashboard?.destroy();
    this.dashboard = undefined;
  }
}
