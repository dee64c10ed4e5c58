// A React hook for the element's size in CSS pixels, kept up to date with a
// ResizeObserver: the split panel's SVG charts draw in pixels so their text is never stretched.
import { useEffect, useRef, useState, type RefObject } from 'react';

export interface Size {
  width: number;
  height: number;
}

/** The element's size in CSS pixels, kept up to date (the chart draws in pixels so its text is never stretched). */
export function useElementSize<T extends Element>(initial: Size = { width: 600, height: 180 }): [RefObject<T | null>, Size] {
  const ref = useRef<T>(null);
  const [size, setSize] = useState<Size>(initial);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const observer = new ResizeObserver(([entry]) => {
      const { width, height } = entry.contentRect;
      if (width > 0 && height > 0) setSize({ width: Math.round(width), height: Math.round(height) });
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, size];
}
