// A toolbar button with a panel that drops down under it; closes on a click outside, on
// Esc, or when the panel asks (after a choice). Its open state is its own, or the owner's
// when `open` and `onOpenChange` are given (the Open panel opens on Ctrl+O too).
import { useEffect, useRef, useState, type ReactNode } from 'react';

interface PopoverProps {
  label: ReactNode;
  title: string;
  className?: string;
  align?: 'left' | 'right';
  testId?: string;
  disabled?: boolean;
  open?: boolean;
  onOpenChange?: (open: boolean) => void;
  children: (close: () => void) => ReactNode;
}

export function Popover({ label, title, className, align = 'left', testId, disabled, open: controlled, onOpenChange, children }: PopoverProps) {
  const [own, setOwn] = useState(false);
  const open = controlled ?? own;
  const setOpen = (next: boolean | ((current: boolean) => boolean)) => {
    const value = typeof next === 'function' ? next(open) : next;
    if (onOpenChange) onOpenChange(value);
    else setOwn(value);
  };
  const root = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const onPointer = (event: PointerEvent) => {
      if (root.current && !root.current.contains(event.target as Node)) setOpen(false);
    };
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') {
        event.stopPropagation();
        setOpen(false);
      }
    };
    window.addEventListener('pointerdown', onPointer, true);
    window.addEventListener('keydown', onKey, true);
    return () => {
      window.removeEventListener('pointerdown', onPointer, true);
      window.removeEventListener('keydown', onKey, true);
    };
  }, [open]);

  return (
    <div className="popover-root" ref={root}>
      <button
        type="button"
        className={`tool-button ${className ?? ''} ${open ? 'is-open' : ''}`}
        title={title}
        aria-haspopup="dialog"
        aria-expanded={open}
        disabled={disabled}
        data-testid={testId}
        onClick={() => setOpen((value) => !value)}
      >
        {label}
      </button>
      {open && (
        <div className={`popover popover-${align}`} role="dialog" aria-label={title}>
          {children(() => setOpen(false))}
        </div>
      )}
    </div>
  );
}
