// A whole-number input that can be emptied and retyped: it keeps the text being typed
// (an empty field included) and passes on only whole numbers within min..max; leaving the
// field with anything else shows the last good value again. A controlled <input
// type="number"> bound straight to a number snaps back to it at every keystroke, so "10"
// could never be replaced by typing "25" after emptying it.
import { useEffect, useState, type InputHTMLAttributes } from 'react';
import { parseWholeNumber } from './format.js';

export interface NumberFieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, 'value' | 'onChange' | 'type' | 'min' | 'max'> {
  value: number;
  min: number;
  max: number;
  onCommit: (value: number) => void;
}

export function NumberField({ value, min, max, onCommit, onBlur, ...rest }: NumberFieldProps) {
  const [text, setText] = useState(String(value));
  const [editing, setEditing] = useState(false);
  // A value changed elsewhere shows, unless the user is typing here.
  useEffect(() => {
    if (!editing) setText(String(value));
  }, [value, editing]);
  const invalid = parseWholeNumber(text, min, max) === null;
  return (
    <input
      {...rest}
      type="number"
      min={min}
      max={max}
      value={text}
      aria-invalid={invalid}
      onFocus={() => setEditing(true)}
      onChange={(event) => {
        setText(event.target.value);
        const parsed = parseWholeNumber(event.target.value, min, max);
        if (parsed !== null && parsed !== value) onCommit(parsed);
      }}
      onBlur={(event) => {
        setEditing(false);
        if (parseWholeNumber(text, min, max) === null) setText(String(value));
        onBlur?.(event);
      }}
    />
  );
}
