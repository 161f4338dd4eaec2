import '@testing-library/jest-dom/vitest';

// jsdom has no layout: element sizes are 0 and ResizeObserver does not exist. Svelte's
// bind:clientWidth needs the constructor; the chart then asks for its default width.
class NoLayoutResizeObserver {
  observe(): void {}
  unobserve(): void {}
  disconnect(): void {}
}
globalThis.ResizeObserver ??= NoLayoutResizeObserver as unknown as typeof ResizeObserver;
