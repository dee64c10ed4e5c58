// A drag handle between two panes. It reports the pane's new size; `invert` is for panes
// on the right or at the bottom, which grow as the handle moves left or up. Arrow keys
// resize by 16 px, so it works without a mouse.
import { useRef, type KeyboardEvent, type PointerEvent } from 'react';

interface SplitterProps {
  orientation: 'vertical' | 'horizontal';
  size: number;
  onResize(size: number): void;
  min: number;
  max: number;
  invert?: boolean;
  label: string;
}

export function Splitter({ orientation, size, onResize, min, max, invert = false, label }: SplitterProps) {
  const drag = useRef<{ start: number; size: number } | null>(null);
  const clamp = (value: number) => Math.min(max, Math.max(min, value));
  const position = (event: PointerEvent) => (orientation === 'vertical' ? event.clientX : event.clientY);

  const onPointerDown = (event: PointerEvent<HTMLDivElement>) => {
    event.currentTarget.setPointerCapture(event.pointerId);
    drag.current = { start: position(event), size };
  };
  const onPointerMove = (event: PointerEvent<HTMLDivElement>) => {
    if (!drag.current) return;
    const delta = position(event) - drag.current.start;
    onResize(clamp(drag.current.size + (invert ? -delta : delta)));
  };
  const onPointerUp = (event: PointerEvent<HTMLDivElement>) => {
    drag.current = null;
    event.currentTarget.releasePointerCapture(event.pointerId);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const grow = orientation === 'vertical' ? (invert ? 'ArrowLeft' : 'ArrowRight') : invert ? 'ArrowUp' : 'ArrowDown';
    const shrink = orientation === 'vertical' ? (invert ? 'ArrowRight' : 'ArrowLeft') : invert ? 'ArrowDown' : 'ArrowUp';
    if (event.key === grow) onResize(clamp(size + 16));
    else if (event.key === shrink) onResize(clamp(size - 16));
    else return;
    event.preventDefault();
  };

  return (
    <div
      className={`splitter splitter-${orientation}`}
      role="separator"
      aria-orientation={orientation}
      aria-label={label}
      aria-valuenow={Math.round(size)}
      aria-valuemin={min}
      aria-valuemax={max}
      tabIndex={0}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerUp}
      onPointerCancel={onPointerUp}
      onKeyDown={onKeyDown}
    />
  );
}
