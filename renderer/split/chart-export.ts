// Charts as files: the split chart, the trace replay and the per-layer charts saved as SVG
// or PNG. An exported SVG is a copy of the drawn one(s) with every colour and font resolved
// from the page's CSS (the theme's variables mean nothing outside the page) and the panel
// colour as background. A figure made of several drawn charts (Figure 5: compute above
// output size, drawn by recharts) is stacked into one SVG under a title and a legend; the
// PNG is the SVG rasterised at twice the size. Both are offered as downloads.
const PRESENTATION = ['fill', 'stroke', 'stroke-width', 'stroke-dasharray', 'stroke-opacity', 'fill-opacity', 'opacity', 'font-size', 'font-family', 'font-weight', 'paint-order'] as const;
const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * A copy of `svg` whose elements carry their computed presentation attributes (only where
 * they differ from the parent's, as SVG inherits them), classes and inline styles removed.
 */
function inlinedCopy(svg: SVGSVGElement): SVGSVGElement {
  const copy = svg.cloneNode(true) as SVGSVGElement;
  const originals = [svg, ...svg.querySelectorAll('*')];
  const copies = [copy, ...copy.querySelectorAll('*')];
  const computed = new Map<Element, CSSStyleDeclaration>();
  const styleOf = (element: Element) => {
    let style = computed.get(element);
    if (!style) {
      style = getComputedStyle(element);
      computed.set(element, style);
    }
    return style;
  };
  originals.forEach((original, index) => {
    const target = copies[index];
    const style = styleOf(original);
    const parent = original === svg ? null : original.parentElement;
    for (const property of PRESENTATION) {
      const value = style.getPropertyValue(property);
      if (value === '' || (parent && styleOf(parent).getPropertyValue(property) === value)) target.removeAttribute(property);
      else target.setAttribute(property, value);
    }
    target.removeAttribute('class');
    target.removeAttribute('style');
    target.removeAttribute('tabindex');
  });
  return copy;
}

function backgroundOf(element: Element): string {
  const panel = element.closest('.split-panel, .layer-charts') ?? document.body;
  return getComputedStyle(panel).getPropertyValue('background-color') || '#ffffff';
}

function rect(width: number | string, height: number | string, fill: string, x = 0, y = 0): SVGRectElement {
  const element = document.createElementNS(SVG_NS, 'rect');
  element.setAttribute('x', String(x));
  element.setAttribute('y', String(y));
  element.setAttribute('width', String(width));
  element.setAttribute('height', String(height));
  element.setAttribute('fill', fill);
  return element;
}

function text(content: string, x: number, y: number, attributes: Record<string, string>): SVGTextElement {
  const element = document.createElementNS(SVG_NS, 'text');
  element.textContent = content;
  element.setAttribute('x', String(x));
  element.setAttribute('y', String(y));
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  return element;
}

/** The SVG's markup with computed presentation attributes, sized as drawn. */
export function standaloneSvg(svg: SVGSVGElement): string {
  const box = svg.getBoundingClientRect();
  const copy = inlinedCopy(svg);
  copy.setAttribute('xmlns', SVG_NS);
  copy.setAttribute('width', String(Math.round(box.width)));
  copy.setAttribute('height', String(Math.round(box.height)));
  copy.setAttribute('viewBox', `0 0 ${Math.round(box.width)} ${Math.round(box.height)}`);
  copy.insertBefore(rect('100%', '100%', backgroundOf(svg)), copy.firstChild);
  return new XMLSerializer().serializeToString(copy);
}

export interface LegendItem {
  label: string;
  /** A CSS colour or var(--name), resolved when exported. */
  colour: string;
  kind: 'box' | 'line' | 'dash';
}

export interface FigurePart {
  svg: SVGSVGElement;
  /** Axis title written above the part, at its left. */
  title: string;
  /** Legend written above the part, at its right. */
  legend: LegendItem[];
}

const HEADER = 22;
const PART_HEADER = 16;

/** Resolves var(--name) against the page's theme. */
function resolveColour(colour: string, reference: Element): string {
  const variable = /^var\((--[\w-]+)\)$/.exec(colour.trim());
  if (!variable) return colour;
  return getComputedStyle(reference).getPropertyValue(variable[1]).trim() || '#888888';
}

/** Several drawn charts stacked into one SVG under `title`, each with its axis title and legend. */
export function composedSvg(title: string, parts: FigurePart[]): string {
  const reference = parts[0]?.svg ?? document.body;
  const style = getComputedStyle(reference.closest('.layer-charts, .split-panel') ?? document.body);
  const foreground = style.getPropertyValue('color') || '#1d2127';
  const muted = getComputedStyle(document.documentElement).getPropertyValue('--muted').trim() || '#67707c';
  const font = style.getPropertyValue('font-family') || 'sans-serif';
  const width = Math.round(Math.max(...parts.map((part) => part.svg.getBoundingClientRect().width), 200));
  const figure = document.createElementNS(SVG_NS, 'svg');
  figure.setAttribute('xmlns', SVG_NS);
  figure.setAttribute('font-family', font);
  figure.appendChild(text(title, 8, 15, { 'font-size': '12', 'font-weight': '600', fill: foreground }));
  let y = HEADER;
  for (const part of parts) {
    const box = part.svg.getBoundingClientRect();
    figure.appendChild(text(part.title, 8, y + 11, { 'font-size': '9.5', fill: muted }));
    // The legend, right-aligned: measured from an estimate of the text widths.
    let x = width - 8;
    for (const item of [...part.legend].reverse()) {
      const labelWidth = item.label.length * 5.4;
      x -= labelWidth;
      figure.appendChild(text(item.label, x, y + 11, { 'font-size': '9.5', fill: muted }));
      x -= 16;
      const colour = resolveColour(item.colour, reference);
      if (item.kind === 'box') figure.appendChild(rect(10, 10, colour, x, y + 2));
      else {
        const line = document.createElementNS(SVG_NS, 'line');
        line.setAttribute('x1', String(x));
        line.setAttribute('x2', String(x + 12));
        line.setAttribute('y1', String(y + 7));
        line.setAttribute('y2', String(y + 7));
        line.setAttribute('stroke', colour);
        line.setAttribute('stroke-width', '1.5');
        if (item.kind === 'dash') line.setAttribute('stroke-dasharray', '4 2');
        figure.appendChild(line);
      }
      x -= 10;
    }
    const copy = inlinedCopy(part.svg);
    copy.setAttribute('x', '0');
    copy.setAttribute('y', String(y + PART_HEADER));
    copy.setAttribute('width', String(Math.round(box.width)));
    copy.setAttribute('height', String(Math.round(box.height)));
    copy.setAttribute('overflow', 'visible');
    figure.appendChild(copy);
    y += PART_HEADER + Math.round(box.height);
  }
  const height = y + 4;
  figure.setAttribute('width', String(width));
  figure.setAttribute('height', String(height));
  figure.setAttribute('viewBox', `0 0 ${width} ${height}`);
  figure.insertBefore(rect('100%', '100%', backgroundOf(reference)), figure.firstChild);
  return new XMLSerializer().serializeToString(figure);
}

function download(href: string, fileName: string): void {
  const link = document.createElement('a');
  link.href = href;
  link.download = fileName;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
}

function svgDataUrl(markup: string): string {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(markup)}`;
}

/** Offers SVG markup as a download. */
export function downloadSvgMarkup(markup: string, fileName: string): void {
  download(svgDataUrl(markup), fileName);
}

export function downloadSvg(svg: SVGSVGElement, fileName: string): void {
  downloadSvgMarkup(standaloneSvg(svg), fileName);
}

/** The size the root element of SVG markup declares. */
function declaredSize(markup: string): { width: number; height: number } {
  const root = /^<svg[^>]*>/.exec(markup)?.[0] ?? '';
  const width = Number(/\swidth="([\d.]+)"/.exec(root)?.[1] ?? 0);
  const height = Number(/\sheight="([\d.]+)"/.exec(root)?.[1] ?? 0);
  return { width, height };
}

/** Rasterises SVG markup at `scale`× and offers it as a PNG. */
export async function downloadPngMarkup(markup: string, fileName: string, scale = 2): Promise<void> {
  const { width, height } = declaredSize(markup);
  const image = new Image();
  image.src = svgDataUrl(markup);
  await image.decode();
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  const context = canvas.getContext('2d');
  if (!context) throw new Error('this browser cannot draw a PNG (no 2D canvas)');
  context.scale(scale, scale);
  context.drawImage(image, 0, 0, width, height);
  download(canvas.toDataURL('image/png'), fileName);
}

export function downloadPng(svg: SVGSVGElement, fileName: string, scale = 2): Promise<void> {
  return downloadPngMarkup(standaloneSvg(svg), fileName, scale);
}
