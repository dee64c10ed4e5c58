// Charts as files: the split chart (or the trace replay) saved as SVG or PNG. The SVG is
// a copy of the drawn one with every colour and font resolved from the page's CSS (the
// theme's variables mean nothing outside the page) and the panel colour as background;
// the PNG is that SVG rasterised at twice the size. Both are offered as downloads.
const PRESENTATION = ['fill', 'stroke', 'stroke-width', 'stroke-dasharray', 'opacity', 'font-size', 'font-family', 'font-weight', 'paint-order'] as const;

/** The SVG's markup with computed presentation attributes, sized as drawn. */
export function standaloneSvg(svg: SVGSVGElement): string {
  const box = svg.getBoundingClientRect();
  const copy = svg.cloneNode(true) as SVGSVGElement;
  const originals = [svg, ...svg.querySelectorAll('*')];
  const copies = [copy, ...copy.querySelectorAll('*')];
  originals.forEach((original, index) => {
    const target = copies[index];
    const style = getComputedStyle(original);
    for (const property of PRESENTATION) {
      const value = style.getPropertyValue(property);
      if (value !== '') target.setAttribute(property, value);
    }
    target.removeAttribute('class');
  });
  copy.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  copy.setAttribute('width', String(Math.round(box.width)));
  copy.setAttribute('height', String(Math.round(box.height)));
  copy.setAttribute('viewBox', `0 0 ${Math.round(box.width)} ${Math.round(box.height)}`);
  const background = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
  background.setAttribute('width', '100%');
  background.setAttribute('height', '100%');
  background.setAttribute('fill', getComputedStyle(svg.closest('.split-panel') ?? document.body).getPropertyValue('background-color') || '#ffffff');
  copy.insertBefore(background, copy.firstChild);
  return new XMLSerializer().serializeToString(copy);
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

export function downloadSvg(svg: SVGSVGElement, fileName: string): void {
  download(svgDataUrl(standaloneSvg(svg)), fileName);
}

/** Rasterises the chart at `scale`× and offers it as a PNG. */
export async function downloadPng(svg: SVGSVGElement, fileName: string, scale = 2): Promise<void> {
  const markup = standaloneSvg(svg);
  const box = svg.getBoundingClientRect();
  const image = new Image();
  image.src = svgDataUrl(markup);
  await image.decode();
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(box.width * scale);
  canvas.height = Math.round(box.height * scale);
  const context = canvas.getContext('2d');
  if (!context) throw new Error('this browser cannot draw a PNG (no 2D canvas)');
  context.scale(scale, scale);
  context.drawImage(image, 0, 0, box.width, box.height);
  download(canvas.toDataURL('image/png'), fileName);
}
