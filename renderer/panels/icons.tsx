// Small stroke icons for the toolbar and panels (16 px, currentColor), so the shell needs
// no icon font or image files.
import type { ReactElement } from 'react';

function Icon({ children, size = 16 }: { children: ReactElement | ReactElement[]; size?: number }) {
  return (
    <svg className="icon" width={size} height={size} viewBox="0 0 16 16" fill="none" stroke="currentColor" strokeWidth="1.4" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true">
      {children}
    </svg>
  );
}

export const OpenIcon = () => (
  <Icon>
    <path d="M1.5 3.5h4l1.5 1.5h7.5v8.5h-13z" />
  </Icon>
);
export const ClockIcon = () => (
  <Icon>
    <circle cx="8" cy="8" r="6" />
    <path d="M8 4.5V8l2.5 1.5" />
  </Icon>
);
export const SearchIcon = () => (
  <Icon size={14}>
    <circle cx="7" cy="7" r="4.5" />
    <path d="M10.5 10.5l3.5 3.5" />
  </Icon>
);
export const SunIcon = () => (
  <Icon>
    <circle cx="8" cy="8" r="3" />
    <path d="M8 1v1.5M8 13.5V15M1 8h1.5M13.5 8H15M3 3l1 1M12 12l1 1M3 13l1-1M12 4l1-1" />
  </Icon>
);
export const MoonIcon = () => (
  <Icon>
    <path d="M13.5 9.5A5.5 5.5 0 016.5 2.5a5.5 5.5 0 107 7z" />
  </Icon>
);
export const PlayIcon = () => (
  <Icon size={14}>
    <path d="M4.5 3v10l8-5z" fill="currentColor" />
  </Icon>
);
export const CloseIcon = () => (
  <Icon size={14}>
    <path d="M4 4l8 8M12 4l-8 8" />
  </Icon>
);
export const ServerIcon = () => (
  <Icon size={14}>
    <rect x="2" y="2.5" width="12" height="4.5" rx="1" />
    <rect x="2" y="9" width="12" height="4.5" rx="1" />
    <path d="M4.5 4.75h.01M4.5 11.25h.01" />
  </Icon>
);
export const ChevronIcon = ({ up = false }: { up?: boolean }) => (
  <Icon size={12}>
    <path d={up ? 'M4 10l4-4 4 4' : 'M4 6l4 4 4-4'} />
  </Icon>
);
export const AlertIcon = () => (
  <Icon size={14}>
    <path d="M8 1.8l6.5 11.7h-13z" />
    <path d="M8 6.5v3M8 11.5h.01" />
  </Icon>
);
export const InfoIcon = () => (
  <Icon size={14}>
    <circle cx="8" cy="8" r="6.2" />
    <path d="M8 7.5v3.5M8 5h.01" />
  </Icon>
);
